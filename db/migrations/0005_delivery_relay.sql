ALTER TABLE "deliveries" ALTER COLUMN "ticket_number" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD COLUMN "consecutive_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD COLUMN "failing_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD COLUMN "disabled_reason" text;--> statement-breakpoint
CREATE INDEX "deliveries_pending_webhook_idx" ON "deliveries" USING btree ("subscription_id","next_attempt_at") WHERE "deliveries"."status" = 'pending' and "deliveries"."kind" = 'webhook';--> statement-breakpoint
CREATE INDEX "deliveries_pending_notice_idx" ON "deliveries" USING btree ("next_attempt_at") WHERE "deliveries"."status" = 'pending' and "deliveries"."kind" <> 'webhook';