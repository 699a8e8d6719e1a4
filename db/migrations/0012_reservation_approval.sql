ALTER TABLE "part_reservations" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "part_reservations" ADD COLUMN "decided_at" timestamp with time zone;