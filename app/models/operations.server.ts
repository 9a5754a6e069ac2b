import { sql } from 'drizzle-orm'
import { queryRows, type Db } from '../db/client.server'
import { listBackups } from '../../workers/jobs/backup/r2'
import { jobs } from '../../workers/jobs'

// What /ops shows, read in one statement (one database round trip): webhook intake, the last run
// of each job, the recording failure rate, rate-limit refusals and the last credits audit. The
// health checks and the backups come from their own code (health.server.ts, the backup's R2 list).

/** The failed webhook events shown (newest failure first); the total is counted separately. */
export const FAILED_EVENTS_SHOWN = 50
/** The window of the recording failure rate. */
export const RECORDING_WINDOW_DAYS = 7
/** `npm run credits:audit` records its runs under this name (scripts/credits-audit.ts). */
export const CREDITS_AUDIT_JOB = 'credits-audit'

export interface FailedEvent {
  id: string
  eventId: string
  type: string
  attempts: number
  failureReason: string | null
  receivedAt: string
  failedAt: string
  /** Null once the attempts are used up: then only an operator retries it. */
  nextAttemptAt: string | null
}

export interface LastRun {
  name: string
  startedAt: string
  finishedAt: string
  ok: boolean
  detail: string
}

export interface JobStatus {
  name: string
  crons: readonly string[]
  lastRun: LastRun | null
}

export interface RefusalsByPolicy {
  policy: string
  lastDay: number
  lastWeek: number
}

export interface Operations {
  webhooks: {
    lastReceivedAt: string | null
    failedCount: number
    failed: FailedEvent[]
  }
  jobs: JobStatus[]
  creditsAudit: LastRun | null
  recordings: { total: number; failed: number; days: number }
  refusals: RefusalsByPolicy[]
}

interface Row {
  last_received_at: string | null
  failed_count: number
  failed: FailedEvent[]
  runs: LastRun[]
  recordings: { total: number; failed: number }
  refusals: RefusalsByPolicy[]
}

export async function loadOperations(db: Db): Promise<Operations> {
  const [row] = await queryRows<Row>(
    db,
    sql`select
      -- Applied events by the prune index, unapplied ones by the retry index: no full scan.
      greatest(
        (select max(received_at) from webhook_events where applied_at is not null),
        (select max(received_at) from webhook_events where applied_at is null)
      ) as last_received_at,
      (select count(*)::int from webhook_events
        where applied_at is null and failed_at is not null) as failed_count,
      (select coalesce(json_agg(f order by f."failedAt" desc), '[]'::json) from (
        select id, event_id as "eventId", type, attempts, failure_reason as "failureReason",
               received_at as "receivedAt", failed_at as "failedAt", next_attempt_at as "nextAttemptAt"
        from webhook_events where applied_at is null and failed_at is not null
        order by failed_at desc limit ${FAILED_EVENTS_SHOWN}) f) as failed,
      (select coalesce(json_agg(r), '[]'::json) from (
        select distinct on (name) name, started_at as "startedAt", finished_at as "finishedAt", ok, detail
        from job_runs order by name, started_at desc) r) as runs,
      (select json_build_object('total', count(*)::int,
                                'failed', (count(*) filter (where status = 'failed'))::int)
        from recordings
        where created_at > now() - make_interval(days => ${RECORDING_WINDOW_DAYS})) as recordings,
      (select coalesce(json_agg(p order by p."lastWeek" desc, p.policy), '[]'::json) from (
        select policy,
               coalesce(sum(refusals) filter (where hour > now() - interval '24 hours'), 0)::int as "lastDay",
               sum(refusals)::int as "lastWeek"
        from rate_limit_refusals where hour > now() - interval '7 days'
        group by policy) p) as refusals`,
  )
  if (!row) throw new Error('the operations query returned no row')
  const runs = new Map(row.runs.map((run) => [run.name, run]))
  return {
    webhooks: {
      lastReceivedAt: row.last_received_at
        ? new Date(row.last_received_at).toISOString()
        : null,
      failedCount: row.failed_count,
      failed: row.failed,
    },
    jobs: jobs.map((job) => ({
      name: job.name,
      crons: job.crons,
      lastRun: runs.get(job.name) ?? null,
    })),
    creditsAudit: runs.get(CREDITS_AUDIT_JOB) ?? null,
    recordings: { ...row.recordings, days: RECORDING_WINDOW_DAYS },
    refusals: row.refusals,
  }
}

export interface BackupSummary {
  id: string
  createdAt: string
  bytes: number
  complete: boolean
}

/** The newest backups in the bucket (the nightly job's, by the backup code's own listing). */
export async function latestBackups(
  bucket: R2Bucket,
  count = 5,
): Promise<BackupSummary[]> {
  const stored = await listBackups(bucket)
  return stored.slice(0, count).map((backup) => ({
    id: backup.id,
    createdAt: backup.createdAt.toISOString(),
    bytes: backup.bytes,
    complete: backup.complete,
  }))
}
