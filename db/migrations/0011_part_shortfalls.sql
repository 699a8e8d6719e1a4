CREATE TABLE "part_shortfalls" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "part_shortfalls_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"request_id" text NOT NULL,
	"ticket_number" text NOT NULL,
	"part_number" text NOT NULL,
	"quantity" integer NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "part_shortfalls_quantity_positive" CHECK ("part_shortfalls"."quantity" > 0)
);
--> statement-breakpoint
ALTER TABLE "part_shortfalls" ADD CONSTRAINT "part_shortfalls_ticket_number_tickets_number_fk" FOREIGN KEY ("ticket_number") REFERENCES "public"."tickets"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "part_shortfalls" ADD CONSTRAINT "part_shortfalls_part_number_parts_part_number_fk" FOREIGN KEY ("part_number") REFERENCES "public"."parts"("part_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "part_shortfalls_at_idx" ON "part_shortfalls" USING btree ("at");