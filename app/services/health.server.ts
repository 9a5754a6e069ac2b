import { sql } from 'drizzle-orm'
import { errorMessage } from '../utils/errors'
import type { Db } from '../db/client.server'
import type { RateLimiterNamespace } from './rate-limit.server'

export type CheckStatus = 'ok' | 'down'
export interface CheckResult {
  status: CheckStatus
  latencyMs: number
  error?: string
}
export interface HealthReport {
  status: 'ok' | 'degraded' | 'down'
  version: string
  checks: {
    database: CheckResult
    storage: CheckResult
    rateLimiter: CheckResult
  }
}

const CHECK_TIMEOUT_MS = 2_000
// The object R2 is asked about; it need not exist: a `null` answer still proves R2 answered.
export const STORAGE_PROBE_KEY = 'health/probe'

export interface HealthDeps {
  db: () => Db
  storage: R2Bucket
  limiter: RateLimiterNamespace
  version: string
}

/** How long an isolate reuses a report: a spike of health checks costs one check per isolate. */
export const HEALTH_CACHE_MS = 5_000

let cached: { expiresAt: number; report: Promise<HealthReport> } | undefined

/**
 * The health report, computed at most once per HEALTH_CACHE_MS per isolate (SPEC §7): concurrent
 * callers share the check in flight, so 100 requests at once open one database connection, not 100
 * that queue until the 2 s check times out and the service reports itself down.
 */
export function cachedHealth(deps: HealthDeps): Promise<HealthReport> {
  const now = Date.now()
  if (!cached || cached.expiresAt <= now) {
    const report = checkHealth(deps)
    cached = { expiresAt: now + HEALTH_CACHE_MS, report }
    // The clock starts when the answer is known, so a slow check is not re-run at once.
    void report.then(() => {
      if (cached?.report === report)
        cached.expiresAt = Date.now() + HEALTH_CACHE_MS
    })
  }
  return cached.report
}

/** Checks each dependency (the database with `select 1`): see checkDependencies. */
export function checkHealth({
  db,
  ...rest
}: HealthDeps): Promise<HealthReport> {
  return checkDependencies({
    ...rest,
    database: async () => {
      await db().execute(sql`select 1`)
    },
  })
}

export interface DependencyProbes extends Omit<HealthDeps, 'db'> {
  /**
   * Any query that proves the database answers. /ops passes its own page query, so the check
   * costs that page no extra round trip.
   */
  database: () => Promise<unknown>
}

/**
 * Checks each dependency in parallel with a 2 s ceiling. Only the database being down makes the
 * service "down" (nothing works without it); storage or limiter trouble makes it "degraded".
 */
export async function checkDependencies({
  database: probeDatabase,
  storage,
  limiter,
  version,
}: DependencyProbes): Promise<HealthReport> {
  const [database, storageCheck, rateLimiter] = await Promise.all([
    timed(async () => {
      await probeDatabase()
    }),
    timed(async () => {
      await storage.head(STORAGE_PROBE_KEY)
    }),
    timed(async () => {
      const stub = limiter.get(limiter.idFromName('health'))
      if ((await stub.ping()) !== 'pong') throw new Error('unexpected answer')
    }),
  ])
  const status =
    database.status === 'down'
      ? 'down'
      : storageCheck.status === 'down' || rateLimiter.status === 'down'
        ? 'degraded'
        : 'ok'
  return {
    status,
    version,
    checks: { database, storage: storageCheck, rateLimiter },
  }
}

async function timed(check: () => Promise<void>): Promise<CheckResult> {
  const started = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        )
      }),
    ])
    return { status: 'ok', latencyMs: Date.now() - started }
  } catch (error) {
    // The reason only, never a connection string: the health endpoint is public.
    return {
      status: 'down',
      latencyMs: Date.now() - started,
      error: describe(error),
    }
  } finally {
    clearTimeout(timer)
  }
}

function describe(error: unknown): string {
  const message = errorMessage(error)
  return /no answer within/.test(message) ? message : 'unreachable'
}
