CREATE TABLE "job_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ok" boolean NOT NULL,
	"detail" text DEFAULT '' NOT NULL,
	CONSTRAINT "job_runs_detail_length" CHECK (char_length("job_runs"."detail") <= 1000)
);
--> statement-breakpoint
CREATE TABLE "rate_limit_refusals" (
	"policy" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"refusals" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rate_limit_refusals_policy_hour_pk" PRIMARY KEY("policy","hour"),
	CONSTRAINT "rate_limit_refusals_positive" CHECK ("rate_limit_refusals"."refusals" >= 0)
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "operator" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "job_runs_name_started_at_idx" ON "job_runs" USING btree ("name","started_at");--> statement-breakpoint
CREATE INDEX "rate_limit_refusals_hour_idx" ON "rate_limit_refusals" USING btree ("hour");