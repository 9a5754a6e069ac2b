import { beforeEach, describe, expect, test } from 'vitest'
import { useWorkersOnTestDatabase } from '../support/workers'

const DAILY = '0 3 * * *'

const stack = useWorkersOnTestDatabase()

beforeEach(async () => {
  await stack.database.query('DELETE FROM webhook_events')
})

/** Inserts `count` events received `daysAgo` days ago, applied or not. */
async function insertEvents(
  prefix: string,
  count: number,
  daysAgo: number,
  applied: boolean,
) {
  await stack.database.query(
    `INSERT INTO webhook_events (event_id, type, occurred_at, body, payload, received_at, applied_at)
     SELECT $1 || n, 'peer.join.success', now() - make_interval(days => $2), '{}', '{}'::jsonb,
            now() - make_interval(days => $2), CASE WHEN $3 THEN now() - make_interval(days => $2) END
     FROM generate_series(1, $4) AS n`,
    [prefix, daysAgo, applied, count],
  )
}

async function remaining(): Promise<string[]> {
  const rows = await stack.database.query<{ event_id: string }>(
    'SELECT event_id FROM webhook_events ORDER BY event_id',
  )
  return rows.map((r) => r.event_id)
}

describe('the daily scheduled run', () => {
  test('prunes applied webhook events older than 30 days and keeps the rest', async () => {
    await insertEvents('old-applied-', 3, 31, true)
    await insertEvents('old-unapplied-', 1, 45, false)
    await insertEvents('recent-applied-', 2, 29, true)

    const result = await stack.workers.scheduled(DAILY)
    expect(result.outcome).toBe('ok')
    expect(await remaining()).toEqual([
      'old-unapplied-1',
      'recent-applied-1',
      'recent-applied-2',
    ])

    // Running it again is safe and changes nothing.
    expect((await stack.workers.scheduled(DAILY)).outcome).toBe('ok')
    expect(await remaining()).toEqual([
      'old-unapplied-1',
      'recent-applied-1',
      'recent-applied-2',
    ])
  })

  test('prunes more than one batch', async () => {
    await insertEvents('bulk-', 2_500, 60, true)
    await insertEvents('keep-', 1, 1, true)
    expect((await stack.workers.scheduled(DAILY)).outcome).toBe('ok')
    expect(await remaining()).toEqual(['keep-1'])
  })
})

describe('expired sign-in codes and sessions', () => {
  test('are deleted by the daily run; live ones stay', async () => {
    const [user] = await stack.database.query<{ id: string }>(
      "INSERT INTO users (phone, username, display_name) VALUES ('+15550009999', 'cron_user', 'Cron') RETURNING id",
    )
    await stack.database.query(
      `INSERT INTO otp_codes (phone, code_hash, expires_at) VALUES
         ('+15550001001', 'h1', now() - interval '1 minute'),
         ('+15550001002', 'h2', now() + interval '5 minutes')`,
    )
    await stack.database.query(
      `INSERT INTO auth_sessions (id, user_id, expires_at) VALUES
         ('expired-session', $1, now() - interval '1 day'),
         ('live-session', $1, now() + interval '29 days')`,
      [user!.id],
    )
    expect((await stack.workers.scheduled(DAILY)).outcome).toBe('ok')
    const codes = await stack.database.query<{ phone: string }>(
      'SELECT phone FROM otp_codes ORDER BY phone',
    )
    const sessions = await stack.database.query<{ id: string }>(
      'SELECT id FROM auth_sessions ORDER BY id',
    )
    expect(codes.map((c) => c.phone)).toEqual(['+15550001002'])
    expect(sessions.map((s) => s.id)).toEqual(['live-session'])
  })
})

describe('stored Idempotency-Key answers', () => {
  test('older than a week are deleted by the daily run; recent ones stay', async () => {
    const [user] = await stack.database.query<{ id: string }>(
      "INSERT INTO users (phone, username, display_name) VALUES ('+15550008888', 'idem_user', 'Idem') RETURNING id",
    )
    await stack.database.query(
      `INSERT INTO idempotent_responses (user_id, key, fingerprint, status, body, created_at) VALUES
         ($1, 'tip:old', '{}', 201, '{}', now() - interval '8 days'),
         ($1, 'tip:recent', '{}', 201, '{}', now() - interval '6 days')`,
      [user!.id],
    )
    expect((await stack.workers.scheduled(DAILY)).outcome).toBe('ok')
    const left = await stack.database.query<{ key: string }>(
      'SELECT key FROM idempotent_responses WHERE user_id = $1',
      [user!.id],
    )
    expect(left.map((row) => row.key)).toEqual(['tip:recent'])
  })
})
