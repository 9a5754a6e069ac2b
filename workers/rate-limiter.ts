import { DurableObject } from 'cloudflare:workers'
import {
  gcra,
  type RateLimitDecision,
  type RateLimitPolicy,
} from '../app/services/gcra'
import type { Bindings } from './bindings'

/**
 * One object per limited key, named `<policy>:<subject>` (`otp-send-phone:+15551234567`, `tip:<user id>` …). GCRA keeps a single
 * "theoretical arrival time" per key, so the state is one row and Retry-After is exact. The object
 * runs one request at a time and SQLite storage is synchronous, so concurrent calls cannot race.
 */
export class RateLimiter extends DurableObject<Bindings> {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tat_ms INTEGER NOT NULL)',
    )
  }

  /** Counts one request (or `policy.cost`) against `key`; stores nothing when it is refused. */
  check(key: string, policy: RateLimitPolicy): RateLimitDecision {
    const now = Date.now()
    const row = this.sql
      .exec<{ tat_ms: number }>('SELECT tat_ms FROM buckets WHERE key = ?', key)
      .toArray()[0]
    const decision = gcra(row?.tat_ms ?? null, now, policy)
    if (decision.allowed) {
      this.sql.exec(
        'INSERT INTO buckets (key, tat_ms) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET tat_ms = excluded.tat_ms',
        key,
        decision.tatMs,
      )
      // Once the bucket is full again the row says nothing; drop it then to keep storage small.
      void this.ctx.storage.setAlarm(decision.tatMs)
    }
    return {
      allowed: decision.allowed,
      limit: decision.limit,
      remaining: decision.remaining,
      retryAfter: decision.retryAfter,
      resetAfter: decision.resetAfter,
    }
  }

  /** Forgets `key` (tests and operators: "unlock this phone number"). */
  reset(key: string): void {
    this.sql.exec('DELETE FROM buckets WHERE key = ?', key)
  }

  /** A no-op round trip for the health check. */
  ping(): 'pong' {
    return 'pong'
  }

  async alarm(): Promise<void> {
    this.sql.exec('DELETE FROM buckets WHERE tat_ms <= ?', Date.now())
    const next = this.sql
      .exec<{ tat_ms: number }>('SELECT min(tat_ms) AS tat_ms FROM buckets')
      .toArray()[0]?.tat_ms
    if (next) await this.ctx.storage.setAlarm(next)
  }
}
