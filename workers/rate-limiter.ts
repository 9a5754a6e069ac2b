import { DurableObject } from 'cloudflare:workers'
import {
  slidingWindow,
  type RateLimitDecision,
  type RateLimitPolicy,
} from '../app/services/sliding-window'
import type { Bindings } from './bindings'

/**
 * One object per limited key, named `<policy>:<subject>` (`otp-send-phone:+15551234567`,
 * `tip:<user id>` …). It remembers when each allowed request leaves its window (at most `limit`
 * rows per key) and decides with a sliding window log (ADR 007). The object runs one call at a
 * time and its SQLite storage is synchronous, so concurrent calls cannot race: read, decide and
 * write happen with no await in between.
 */
export class RateLimiter extends DurableObject<Bindings> {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, expires_ms INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS hits_key_expires ON hits (key, expires_ms);
    `)
  }

  /** Counts one request (or `policy.cost`) against `key`; stores nothing when it is refused. */
  check(key: string, policy: RateLimitPolicy): RateLimitDecision {
    const now = Date.now()
    this.sql.exec(
      'DELETE FROM hits WHERE key = ? AND expires_ms <= ?',
      key,
      now,
    )
    const expiries = this.sql
      .exec<{ expires_ms: number }>(
        'SELECT expires_ms FROM hits WHERE key = ? ORDER BY expires_ms',
        key,
      )
      .toArray()
      .map((row) => row.expires_ms)
    const { expiries: stored, ...decision } = slidingWindow(
      expiries,
      now,
      policy,
    )
    if (decision.allowed) {
      for (const expiry of stored.slice(expiries.length)) {
        this.sql.exec(
          'INSERT INTO hits (key, expires_ms) VALUES (?, ?)',
          key,
          expiry,
        )
      }
      // When the newest row expires, every row stored so far has; the alarm clears them then.
      void this.ctx.storage.setAlarm(stored.at(-1)!)
    }
    return decision
  }

  /** Forgets `key` (tests and operators: "unlock this phone number"). */
  reset(key: string): void {
    this.sql.exec('DELETE FROM hits WHERE key = ?', key)
  }

  /** A no-op round trip for the health check. */
  ping(): 'pong' {
    return 'pong'
  }

  async alarm(): Promise<void> {
    this.sql.exec('DELETE FROM hits WHERE expires_ms <= ?', Date.now())
    const next = this.sql
      .exec<{ next: number | null }>('SELECT max(expires_ms) AS next FROM hits')
      .toArray()[0]?.next
    if (next) await this.ctx.storage.setAlarm(next)
  }
}
