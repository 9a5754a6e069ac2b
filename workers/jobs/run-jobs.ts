import { openRequestDatabase, type Db } from '../../app/db/client.server'
import { createMonitor, log } from '../../app/services/monitoring.server'
import { getAppEnv, type AppEnv } from '../../app/utils/env.server'
import type { Bindings } from '../bindings'

export interface JobContext {
  db: Db
  env: AppEnv
  bindings: Bindings
}

export interface Job {
  name: string
  /** The cron expressions (from wrangler.toml `[triggers]`) that run this job. */
  crons: readonly string[]
  /** Does the work; returns a summary for the log line. */
  run(context: JobContext): Promise<Record<string, unknown>>
}

/**
 * The scheduled() handler: runs every job registered for the firing cron, each isolated (its own
 * database pool, its own try/catch), so one failing job neither stops nor poisons the others.
 */
export function runJobs(
  jobs: readonly Job[],
): ExportedHandlerScheduledHandler<Bindings> {
  return async (controller, bindings, ctx) => {
    const env = getAppEnv(bindings)
    const monitor = createMonitor({
      dsn: env.SENTRY_DSN,
      environment: env.ENVIRONMENT,
      release: __BUILD_VERSION__,
      context: ctx,
    })
    const due = jobs.filter((job) => job.crons.includes(controller.cron))
    if (due.length === 0)
      log('warn', 'no job registered for cron', { cron: controller.cron })
    const outcomes = await Promise.allSettled(
      due.map(async (job) => {
        const started = Date.now()
        const database = openRequestDatabase(env)
        try {
          const summary = await job.run({ db: database.db, env, bindings })
          log('info', 'job succeeded', {
            job: job.name,
            cron: controller.cron,
            durationMs: Date.now() - started,
            ...summary,
          })
        } catch (error) {
          log('error', 'job failed', {
            job: job.name,
            cron: controller.cron,
            durationMs: Date.now() - started,
          })
          monitor.captureException(error, { job: job.name })
          throw error
        } finally {
          await database.close()
        }
      }),
    )
    const failed = due
      .filter((_, i) => outcomes[i]?.status === 'rejected')
      .map((job) => job.name)
    // Failing the invocation marks it failed in Cloudflare's cron history, after every job ran.
    if (failed.length > 0)
      throw new Error(`scheduled jobs failed: ${failed.join(', ')}`)
  }
}
