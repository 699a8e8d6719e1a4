CREATE TABLE "codec_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"actor_id" text NOT NULL,
	"actor_role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "codec_sessions_expires_at_idx" ON "codec_sessions" USING btree ("expires_at");