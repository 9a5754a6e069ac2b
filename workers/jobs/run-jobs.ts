import { openRequestDatabase, type Db } from '../../app/db/client.server'
import {
  describeSummary,
  recordJobRuns,
  type JobRun,
} from '../../app/models/job-runs.server'
import { attachMonitor, log } from '../../app/services/monitoring.server'
import { scrubError } from '../../app/services/scrub'
import {
  createTelemetry,
  startTiming,
  withTelemetry,
} from '../../app/services/telemetry.server'
import { getAppEnv, type AppEnv } from '../../app/utils/env.server'
import { errorMessage } from '../../app/utils/errors'
import type { Bindings } from '../bindings'

export interface JobContext {
  db: Db
  env: AppEnv
  bindings: Bindings
}

export interface Job {
  /** Also the Sentry cron monitor's slug: every run checks in under it. */
  name: string
  /** The cron expressions (from wrangler.toml `[triggers]`) that run this job. */
  crons: readonly string[]
  /** Does the work; returns a summary for the log line. */
  run(context: JobContext): Promise<Record<string, unknown>>
}

/**
 * The scheduled() handler: runs every job registered for the firing cron, each isolated (its own
 * database pool, its own try/catch, its own monitor and run id), so one failing job neither
 * stops nor poisons the others. Every job checks in with Sentry by its name: `in_progress` when
 * it starts, then `ok` or `error`, so a job that fails or stops running raises a missed check-in.
 * Each run is also recorded in job_runs (name, start, end, outcome, summary or error) for /ops,
 * all of one invocation together once every job finished: the nightly backup's snapshot never
 * holds half of the runs of its own invocation, and a restore drill can compare it exactly.
 */
export function runJobs(
  jobs: readonly Job[],
): ExportedHandlerScheduledHandler<Bindings> {
  return async (controller, bindings, ctx) => {
    const env = getAppEnv(bindings)
    const due = jobs.filter((job) => job.crons.includes(controller.cron))
    if (due.length === 0)
      log('warn', 'no job registered for cron', { cron: controller.cron })
    const runs: JobRun[] = []
    const outcomes = await Promise.allSettled(
      due.map((job) => {
        const telemetry = createTelemetry(crypto.randomUUID())
        return withTelemetry(telemetry, async () => {
          const monitor = attachMonitor(telemetry, env, {
            release: __BUILD_VERSION__,
            context: ctx,
            source: `job:${job.name}`,
          })
          const checkInId = monitor.checkIn(job.name, 'in_progress')
          const started = Date.now()
          const seconds = () => (Date.now() - started) / 1000
          const database = openRequestDatabase(env, (what) =>
            startTiming('db', what),
          )
          const startedAt = new Date(started)
          try {
            const summary = await job.run({ db: database.db, env, bindings })
            runs.push({
              name: job.name,
              startedAt,
              finishedAt: new Date(),
              ok: true,
              detail: describeSummary(summary),
            })
            log('info', 'job succeeded', {
              job: job.name,
              cron: controller.cron,
              durationMs: Date.now() - started,
              ...summary,
            })
            monitor.checkIn(job.name, 'ok', {
              checkInId,
              durationSeconds: seconds(),
            })
          } catch (error) {
            runs.push({
              name: job.name,
              startedAt,
              finishedAt: new Date(),
              ok: false,
              // Scrubbed as monitoring scrubs it: no phone number or secret reaches the page.
              detail: scrubError(error).message,
            })
            monitor.captureException(error, {
              job: job.name,
              cron: controller.cron,
              durationMs: Date.now() - started,
            })
            monitor.checkIn(job.name, 'error', {
              checkInId,
              durationSeconds: seconds(),
            })
            throw error
          } finally {
            await database.close()
          }
        })
      }),
    )
    await recordRuns(env, runs)
    const failed = due
      .filter((_, i) => outcomes[i]?.status === 'rejected')
      .map((job) => job.name)
    // Failing the invocation marks it failed in Cloudflare's cron history, after every job ran.
    if (failed.length > 0)
      throw new Error(`scheduled jobs failed: ${failed.join(', ')}`)
  }
}

/**
 * Records the runs for /ops, on a connection of its own. Never fails the invocation: a database
 * that cannot take the rows is the database's problem, reported by the jobs or the health check.
 */
async function recordRuns(env: AppEnv, runs: JobRun[]): Promise<void> {
  if (runs.length === 0) return
  const database = openRequestDatabase(env, (what) => startTiming('db', what))
  try {
    await recordJobRuns(database.db, runs)
  } catch (error) {
    log('warn', 'job runs not recorded', {
      jobs: runs.map((run) => run.name),
      error: errorMessage(error),
    })
  } finally {
    await database.close()
  }
}
