import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.server'
import { jobRuns } from '../db/schema'

/** How many runs of each job /ops history keeps (the daily prune deletes the older ones). */
export const JOB_RUNS_KEPT = 50
const MAX_DETAIL = 1_000

export interface JobRun {
  name: string
  startedAt: Date
  /** Now, when not given. */
  finishedAt?: Date
  ok: boolean
  /** The job's summary or the error's message; cut to 1,000 characters. */
  detail: string
}

/** Records finished runs of scheduled jobs (or of `npm run credits:audit`), in one statement. */
export async function recordJobRuns(
  db: Db,
  runs: readonly JobRun[],
): Promise<void> {
  if (runs.length === 0) return
  await db.insert(jobRuns).values(
    runs.map((run) => ({
      name: run.name,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      ok: run.ok,
      detail: run.detail.slice(0, MAX_DETAIL),
    })),
  )
}

/** A job's summary as one line: `key=value` pairs, for the detail of its run. */
export function describeSummary(summary: Record<string, unknown>): string {
  return Object.entries(summary)
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
    )
    .join(' ')
}

/** Deletes all but the newest `keep` runs of each job; returns how many went. */
export async function pruneJobRuns(
  db: Db,
  keep = JOB_RUNS_KEPT,
): Promise<number> {
  const deleted = await db.execute(sql`
    delete from ${jobRuns} where id in (
      select id from (
        select id, row_number() over (partition by name order by started_at desc) as n
        from ${jobRuns}
      ) ranked where n > ${keep}
    )`)
  return deleted.rowCount ?? 0
}
