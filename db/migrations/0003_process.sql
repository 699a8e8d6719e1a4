CREATE TABLE "engineers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"skills" jsonb NOT NULL,
	"regions" jsonb NOT NULL,
	"latitude" double precision,
	"longitude" double precision,
	"capacity" integer DEFAULT 3 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "engineers_capacity_positive" CHECK ("engineers"."capacity" > 0)
);
--> statement-breakpoint
CREATE TABLE "ticket_assignments" (
	"ticket_number" text PRIMARY KEY NOT NULL,
	"engineer_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"active" boolean NOT NULL,
	"assigned_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "superseded_by" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "customer_id" text;--> statement-breakpoint
ALTER TABLE "ticket_assignments" ADD CONSTRAINT "ticket_assignments_ticket_number_tickets_number_fk" FOREIGN KEY ("ticket_number") REFERENCES "public"."tickets"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_assignments" ADD CONSTRAINT "ticket_assignments_engineer_id_engineers_id_fk" FOREIGN KEY ("engineer_id") REFERENCES "public"."engineers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ticket_assignments_engineer_idx" ON "ticket_assignments" USING btree ("engineer_id","active");--> statement-breakpoint
CREATE INDEX "escalations_level_idx" ON "escalations" USING btree ("level");--> statement-breakpoint
CREATE INDEX "tickets_customer_idx" ON "tickets" USING btree ("customer_id","created_at");