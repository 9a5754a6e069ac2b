DROP INDEX "webhook_events_applied_at_idx";--> statement-breakpoint
ALTER TABLE "webhook_events" ALTER COLUMN "payload" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "body" text;--> statement-breakpoint
-- Events stored before this migration were all applied; their payload is their body.
UPDATE "webhook_events" SET "body" = "payload"::text WHERE "body" IS NULL;--> statement-breakpoint
ALTER TABLE "webhook_events" ALTER COLUMN "body" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "failed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "failure_reason" text;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "webhook_events_applied_received_at_idx" ON "webhook_events" USING btree ("received_at") WHERE "webhook_events"."applied_at" is not null;--> statement-breakpoint
CREATE INDEX "webhook_events_retry_due_idx" ON "webhook_events" USING btree ("next_attempt_at") WHERE "webhook_events"."applied_at" is null;