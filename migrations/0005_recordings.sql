CREATE TABLE "recordings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" uuid NOT NULL,
	"status" text DEFAULT 'recording' NOT NULL,
	"hms_recording_id" text,
	"hms_session_id" text,
	"hms_beam_id" text,
	"hms_asset_id" text,
	"asset_path" text,
	"started_at" timestamp with time zone,
	"stopped_at" timestamp with time zone,
	"duration_seconds" integer,
	"size_bytes" bigint,
	"width" integer,
	"height" integer,
	"format" text,
	"failure_reason" text,
	"applied_rank" integer DEFAULT 0 NOT NULL,
	"applied_event_at" timestamp with time zone,
	"applied_event_type" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recordings_status_values" CHECK ("recordings"."status" in ('recording', 'processing', 'completed', 'failed')),
	CONSTRAINT "recordings_format_values" CHECK ("recordings"."format" is null or "recordings"."format" in ('mp4', 'hls')),
	CONSTRAINT "recordings_non_negative" CHECK (coalesce("recordings"."duration_seconds", 0) >= 0 and coalesce("recordings"."size_bytes", 0) >= 0)
);
--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_session_id_live_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."live_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "recordings_one_active_per_session" ON "recordings" USING btree ("session_id") WHERE "recordings"."status" = 'recording';--> statement-breakpoint
CREATE UNIQUE INDEX "recordings_hms_recording_id_key" ON "recordings" USING btree ("hms_recording_id");--> statement-breakpoint
CREATE INDEX "recordings_session_id_idx" ON "recordings" USING btree ("session_id","created_at");--> statement-breakpoint
CREATE INDEX "recordings_unsettled_idx" ON "recordings" USING btree ("updated_at") WHERE "recordings"."status" in ('recording', 'processing');