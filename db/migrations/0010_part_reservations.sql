CREATE TABLE "part_reservations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "part_reservations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"request_id" text NOT NULL,
	"ticket_number" text NOT NULL,
	"part_number" text NOT NULL,
	"location_id" text NOT NULL,
	"quantity" integer NOT NULL,
	"status" text NOT NULL,
	"issued_quantity" integer DEFAULT 0 NOT NULL,
	"unit_price" integer NOT NULL,
	"free_under_warranty" boolean NOT NULL,
	"old_part_disposition" text,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settlement" text,
	"settled_at" timestamp with time zone,
	CONSTRAINT "part_reservations_quantity_positive" CHECK ("part_reservations"."quantity" > 0),
	CONSTRAINT "part_reservations_issued_within_quantity" CHECK ("part_reservations"."issued_quantity" >= 0 and "part_reservations"."issued_quantity" <= "part_reservations"."quantity")
);
--> statement-breakpoint
ALTER TABLE "part_reservations" ADD CONSTRAINT "part_reservations_ticket_number_tickets_number_fk" FOREIGN KEY ("ticket_number") REFERENCES "public"."tickets"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "part_reservations" ADD CONSTRAINT "part_reservations_part_number_parts_part_number_fk" FOREIGN KEY ("part_number") REFERENCES "public"."parts"("part_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "part_reservations" ADD CONSTRAINT "part_reservations_location_id_stock_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."stock_locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "part_reservations_ticket_idx" ON "part_reservations" USING btree ("ticket_number","status");