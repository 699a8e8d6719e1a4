CREATE TABLE "escalations" (
	"id" text PRIMARY KEY NOT NULL,
	"ticket_number" text NOT NULL,
	"clock" text NOT NULL,
	"level" smallint NOT NULL,
	"reason" text NOT NULL,
	"missed_deadline" timestamp with time zone NOT NULL,
	"fired_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"ticket_number" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"key" text PRIMARY KEY NOT NULL,
	"ticket_number" text NOT NULL,
	"kind" text NOT NULL,
	"recipient_role" text NOT NULL,
	"channel" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ticket_events" (
	"ticket_number" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" text,
	"actor_role" text,
	"data" jsonb NOT NULL,
	CONSTRAINT "ticket_events_ticket_number_seq_pk" PRIMARY KEY("ticket_number","seq")
);
--> statement-breakpoint
CREATE TABLE "ticket_number_counters" (
	"business_date" text PRIMARY KEY NOT NULL,
	"last_serial" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tickets" (
	"number" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"status" text NOT NULL,
	"channel" text NOT NULL,
	"category" text NOT NULL,
	"priority" text NOT NULL,
	"escalation_level" smallint DEFAULT 0 NOT NULL,
	"assignee" text,
	"sla_breached" boolean DEFAULT false NOT NULL,
	"next_deadline" timestamp with time zone,
	"product_model" text,
	"serial_number" text,
	"external_ref" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"state" jsonb NOT NULL,
	CONSTRAINT "tickets_escalation_level_range" CHECK ("tickets"."escalation_level" between 0 and 3)
);
--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_ticket_number_tickets_number_fk" FOREIGN KEY ("ticket_number") REFERENCES "public"."tickets"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_ticket_number_tickets_number_fk" FOREIGN KEY ("ticket_number") REFERENCES "public"."tickets"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_events" ADD CONSTRAINT "ticket_events_ticket_number_tickets_number_fk" FOREIGN KEY ("ticket_number") REFERENCES "public"."tickets"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "escalations_ticket_idx" ON "escalations" USING btree ("ticket_number");--> statement-breakpoint
CREATE INDEX "escalations_fired_at_idx" ON "escalations" USING btree ("fired_at");--> statement-breakpoint
CREATE INDEX "notifications_ticket_idx" ON "notifications" USING btree ("ticket_number");--> statement-breakpoint
CREATE INDEX "tickets_status_idx" ON "tickets" USING btree ("status");--> statement-breakpoint
CREATE INDEX "tickets_created_at_idx" ON "tickets" USING btree ("created_at","number");--> statement-breakpoint
CREATE INDEX "tickets_next_deadline_idx" ON "tickets" USING btree ("next_deadline");