CREATE TABLE "live_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"room_code" text NOT NULL,
	"hms_room_id" text NOT NULL,
	"host_id" uuid NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"is_public" boolean NOT NULL,
	"max_presenters" integer DEFAULT 4 NOT NULL,
	"status" text DEFAULT 'live' NOT NULL,
	"hms_session_id" text,
	"hls_status" text DEFAULT 'off' NOT NULL,
	"hls_url" text,
	"hls_changed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"room_closed_at" timestamp with time zone,
	CONSTRAINT "live_sessions_title_length" CHECK (char_length("live_sessions"."title") between 1 and 60),
	CONSTRAINT "live_sessions_description_length" CHECK (char_length("live_sessions"."description") <= 280),
	CONSTRAINT "live_sessions_max_presenters_range" CHECK ("live_sessions"."max_presenters" between 2 and 6),
	CONSTRAINT "live_sessions_status_values" CHECK ("live_sessions"."status" in ('live', 'ended')),
	CONSTRAINT "live_sessions_hls_status_values" CHECK ("live_sessions"."hls_status" in ('off', 'starting', 'running')),
	CONSTRAINT "live_sessions_ended_at" CHECK (("live_sessions"."status" = 'ended') = ("live_sessions"."ended_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "orphan_hms_rooms" (
	"hms_room_id" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "peer_intervals" (
	"peer_id" text PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"user_id" uuid,
	"role" text NOT NULL,
	"joined_at" timestamp with time zone,
	"left_at" timestamp with time zone,
	"role_changed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "session_participants" (
	"session_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_participants_session_id_user_id_pk" PRIMARY KEY("session_id","user_id"),
	CONSTRAINT "session_participants_role_values" CHECK ("session_participants"."role" in ('host', 'presenter', 'viewer'))
);
--> statement-breakpoint
CREATE TABLE "session_settlements" (
	"session_id" uuid PRIMARY KEY NOT NULL,
	"settled_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "live_sessions" ADD CONSTRAINT "live_sessions_host_id_users_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peer_intervals" ADD CONSTRAINT "peer_intervals_session_id_live_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."live_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peer_intervals" ADD CONSTRAINT "peer_intervals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_participants" ADD CONSTRAINT "session_participants_session_id_live_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."live_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_participants" ADD CONSTRAINT "session_participants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_settlements" ADD CONSTRAINT "session_settlements_session_id_live_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."live_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "live_sessions_room_code_key" ON "live_sessions" USING btree ("room_code");--> statement-breakpoint
CREATE UNIQUE INDEX "live_sessions_hms_room_id_key" ON "live_sessions" USING btree ("hms_room_id");--> statement-breakpoint
CREATE INDEX "live_sessions_host_id_idx" ON "live_sessions" USING btree ("host_id","created_at");--> statement-breakpoint
CREATE INDEX "live_sessions_live_idx" ON "live_sessions" USING btree ("is_public","created_at") WHERE "live_sessions"."status" = 'live';--> statement-breakpoint
CREATE INDEX "live_sessions_room_to_close_idx" ON "live_sessions" USING btree ("ended_at") WHERE "live_sessions"."status" = 'ended' and "live_sessions"."room_closed_at" is null;--> statement-breakpoint
CREATE INDEX "peer_intervals_session_id_idx" ON "peer_intervals" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "peer_intervals_open_idx" ON "peer_intervals" USING btree ("session_id","role") WHERE "peer_intervals"."left_at" is null;--> statement-breakpoint
CREATE INDEX "session_participants_user_id_idx" ON "session_participants" USING btree ("user_id");