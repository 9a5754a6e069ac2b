import type { Db } from '../app/db/client.server'
import {
  addRefusals,
  type RefusalCount,
} from '../app/models/rate-limit-refusals.server'
import { log } from '../app/services/monitoring.server'
import { errorMessage } from '../app/utils/errors'

// Rate-limit refusals per policy and hour, for /ops (ADR 019). Refusals come in floods (that is
// what limits are for), so each isolate adds them up in memory and writes them at most once every
// REFUSAL_FLUSH_MS, from waitUntil after a response: a flood of refused requests costs the
// database one small upsert per isolate every few seconds, and no refused request waits for it.
// What an isolate holds when it is evicted is lost: the counts are a floor, not an audit.

/** At most one write per isolate this often. */
export const REFUSAL_FLUSH_MS = 10_000
const HOUR_MS = 3_600_000

const pending = new Map<string, RefusalCount>()
let lastFlush = 0

/** Counts one refusal of `policy` in this isolate (the limiter's onRefusal). */
export function countRefusal(policy: string, at = Date.now()): void {
  const hour = new Date(Math.floor(at / HOUR_MS) * HOUR_MS)
  const key = `${policy} ${hour.getTime()}`
  const entry = pending.get(key)
  if (entry) entry.refusals += 1
  else pending.set(key, { policy, hour, refusals: 1 })
}

/**
 * Writes this isolate's counts when there are some and the last write is REFUSAL_FLUSH_MS old (the
 * first refusal an isolate sees is written at once). Called after every response; `db` opens the
 * request's connection only when there is something to write. A failed write is logged and its
 * counts go back to wait for the next one.
 */
export async function flushRefusals(db: () => Db, now = Date.now()) {
  if (pending.size === 0 || now - lastFlush < REFUSAL_FLUSH_MS) return
  lastFlush = now
  const due = [...pending.values()]
  pending.clear()
  try {
    await addRefusals(db(), due)
  } catch (error) {
    for (const count of due)
      for (let i = 0; i < count.refusals; i++)
        countRefusal(count.policy, count.hour.getTime())
    log('warn', 'rate-limit refusals not recorded', {
      error: errorMessage(error),
      refusals: due.reduce((sum, c) => sum + c.refusals, 0),
    })
  }
}
