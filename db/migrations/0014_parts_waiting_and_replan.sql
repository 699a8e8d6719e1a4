ALTER TABLE "part_reservations" ADD COLUMN "operation_id" text;--> statement-breakpoint
ALTER TABLE "part_shortfalls" ADD COLUMN "free_under_warranty" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "part_shortfalls" ADD COLUMN "filled" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "part_shortfalls" ADD COLUMN "withdrawn" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "part_shortfalls" ADD COLUMN "withdrawn_by" text;--> statement-breakpoint
CREATE INDEX "part_shortfalls_open_idx" ON "part_shortfalls" USING btree ("part_number","at") WHERE "part_shortfalls"."filled" + "part_shortfalls"."withdrawn" < "part_shortfalls"."quantity";--> statement-breakpoint
ALTER TABLE "part_shortfalls" ADD CONSTRAINT "part_shortfalls_settled_within_quantity" CHECK ("part_shortfalls"."filled" >= 0 and "part_shortfalls"."withdrawn" >= 0 and "part_shortfalls"."filled" + "part_shortfalls"."withdrawn" <= "part_shortfalls"."quantity");--> statement-breakpoint
-- Shortfalls recorded before stock arriving served waiting tickets were answered by a new request,
-- not kept open: they are closed, so a receipt does not reserve for a need already replaced.
UPDATE "part_shortfalls" SET "withdrawn" = "quantity", "withdrawn_by" = 'before-0014';
