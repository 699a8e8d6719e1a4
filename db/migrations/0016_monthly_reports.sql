CREATE TABLE "monthly_reports" (
	"month" text PRIMARY KEY NOT NULL,
	"period_from" text NOT NULL,
	"period_to" text NOT NULL,
	"time_zone" text NOT NULL,
	"report" jsonb NOT NULL,
	"produced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"escalated_at" timestamp with time zone
);
