ALTER TABLE "idempotency_keys" ADD COLUMN "completed_version" integer;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
-- Claims written before keep what a repeat needs (the version answered) and lapse a day after they were made.
UPDATE "idempotency_keys" SET "completed_version" = ("response"->>'version')::integer, "expires_at" = "created_at" + interval '24 hours';--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "expires_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "pii" text;--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
ALTER TABLE "idempotency_keys" DROP COLUMN "response";
