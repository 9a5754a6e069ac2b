import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.server'
import { rateLimitRefusals } from '../db/schema'

/** Refusals of one policy in one hour (the hour's start, UTC). */
export interface RefusalCount {
  policy: string
  hour: Date
  refusals: number
}

/** How long the hourly counts are kept for /ops. */
export const REFUSAL_RETENTION_DAYS = 30

/** Adds counts to the hourly counters, in one statement. */
export async function addRefusals(
  db: Db,
  counts: readonly RefusalCount[],
): Promise<void> {
  if (counts.length === 0) return
  await db
    .insert(rateLimitRefusals)
    .values(counts.map((c) => ({ ...c })))
    .onConflictDoUpdate({
      target: [rateLimitRefusals.policy, rateLimitRefusals.hour],
      set: {
        refusals: sql`${rateLimitRefusals.refusals} + excluded.refusals`,
      },
    })
}

/** Deletes the counters of hours older than the retention window; returns how many went. */
export async function pruneRefusals(
  db: Db,
  olderThanDays = REFUSAL_RETENTION_DAYS,
): Promise<number> {
  const deleted = await db.execute(
    sql`delete from ${rateLimitRefusals} where hour < now() - make_interval(days => ${olderThanDays})`,
  )
  return deleted.rowCount ?? 0
}
