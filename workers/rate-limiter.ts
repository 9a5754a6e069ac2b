import { DurableObject } from 'cloudflare:workers'
import {
  monitorDurableObjectCall,
  type DurableObjectCall,
} from '../app/services/monitoring.server'
import {
  slidingWindow,
  type RateLimitDecision,
  type RateLimitPolicy,
} from '../app/services/sliding-window'
import { readMonitoringEnv } from '../app/utils/env.server'
import type { Bindings } from './bindings'

/**
 * One object per limited key, named `<policy>:<subject>` (`otp-send-phone:+15551234567`,
 * `tip:<user id>` …). It remembers when each allowed request leaves its window (at most `limit`
 * rows per key) and decides with a sliding window log (ADR 007). The object runs one call at a
 * time and its SQLite storage is synchronous, so concurrent calls cannot race: read, decide and
 * write happen with no await in between. Every call runs under its own monitor: an error is
 * reported once, with the calling request's id, and thrown on to the caller.
 */
export class RateLimiter extends DurableObject<Bindings> {
  private readonly sql: SqlStorage
  private schemaReady = false

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env)
    this.sql = ctx.storage.sql
  }

  /** Counts one request (or `policy.cost`) against `key`; stores nothing when it is refused. */
  check(
    key: string,
    policy: RateLimitPolicy,
    call?: DurableObjectCall,
  ): Promise<RateLimitDecision> {
    return this.monitored('RateLimiter.check', call, () =>
      this.decide(key, policy),
    )
  }

  /** Forgets `key` (tests and operators: "unlock this phone number"). */
  reset(key: string, call?: DurableObjectCall): Promise<void> {
    return this.monitored('RateLimiter.reset', call, () => {
      this.sql.exec('DELETE FROM hits WHERE key = ?', key)
    })
  }

  /** A no-op round trip for the health check. */
  ping(): 'pong' {
    return 'pong'
  }

  async alarm(): Promise<void> {
    await this.monitored('RateLimiter.alarm', undefined, async () => {
      this.sql.exec('DELETE FROM hits WHERE expires_ms <= ?', Date.now())
      const next = this.sql
        .exec<{
          next: number | null
        }>('SELECT max(expires_ms) AS next FROM hits')
        .toArray()[0]?.next
      if (next) await this.ctx.storage.setAlarm(next)
    })
  }

  /** Runs `work` with the table in place, under this call's monitor. */
  private monitored<T>(
    name: string,
    call: DurableObjectCall | undefined,
    work: () => T | Promise<T>,
  ): Promise<T> {
    return monitorDurableObjectCall(
      readMonitoringEnv(this.env),
      this.ctx,
      name,
      call,
      () => {
        this.ensureSchema()
        return work()
      },
    )
  }

  // Inside the monitored call, so storage a deploy cannot read (a table from another version)
  // is reported instead of failing the object before anything can report it.
  private ensureSchema(): void {
    if (this.schemaReady) return
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, expires_ms INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS hits_key_expires ON hits (key, expires_ms);
    `)
    this.schemaReady = true
  }

  private decide(key: string, policy: RateLimitPolicy): RateLimitDecision {
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
}
