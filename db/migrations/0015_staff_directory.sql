CREATE TABLE "staff" (
	"id" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"name" text NOT NULL,
	"phone" text,
	"email" text,
	"notify_by" text DEFAULT 'internal' NOT NULL,
	"superior_id" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "staff_notify_by" CHECK ("staff"."notify_by" in ('internal', 'sms', 'email')),
	CONSTRAINT "staff_not_own_superior" CHECK ("staff"."superior_id" is null or "staff"."superior_id" <> "staff"."id")
);
--> statement-breakpoint
ALTER TABLE "staff" ADD CONSTRAINT "staff_superior_id_staff_id_fk" FOREIGN KEY ("superior_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;