// The restore drill (SPEC §7, docs/backup-recovery.md): every table populated with the values that
// break naive dumps, the nightly job run through the built Worker into (local, on-disk) R2, the
// backup checked and restored by the operator scripts into an empty database, and every table's
// digest, in primary-key order, compared with the source.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PART_SIZE } from '../../workers/jobs/backup/format'
import {
  createEmptyDatabase,
  tableDigests,
  userTables,
  type EmptyDatabase,
} from '../support/backups'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { runNpmScript } from '../support/scripts'
import { startWorkers, type RunningWorkers } from '../support/workers'

const DAILY = '0 3 * * *'

const ADA = 'a0000000-0000-4000-8000-000000000001'
const GHOST = 'a0000000-0000-4000-8000-000000000002'
const ANCIENT = 'a0000000-0000-4000-8000-000000000003'
const LIVE = 'b0000000-0000-4000-8000-000000000001'
const ENDED = 'b0000000-0000-4000-8000-000000000002'

const UNICODE =
  'Ada 👩🏽‍💻 Lovelace — ∑ 日本語 עברית e\u0301 "quotes" \\ backslash \t tab \n newline \u2028 line separator  '
const JSON_VALUE = JSON.stringify({
  numbers: [0, 0.1, 1.5e300, -42],
  unicode: '🎉 \u2028 ünï',
  nested: { deep: [[[]]], null: null, bool: false, empty: {} },
  escaped: 'quote " backslash \\ newline \n',
})
// jsonb keeps numbers exactly: more digits than a double holds.
const BIG_NUMBER_JSON = '{"balance": 123456789012345678901234567890.000001}'
// Random bytes in base64 hardly compress: this one value makes a data file of more than one
// multipart part.
const LARGE_TEXT = randomBytes(Math.ceil(PART_SIZE * 1.2)).toString('base64')

const MAX_INT = 2147483647
const MIN_INT = -2147483648
const MAX_BIGINT = '9223372036854775807'
const MIN_TIMESTAMP = '4713-01-01 00:00:00+00 BC'
const MAX_TIMESTAMP = '294276-12-31 23:59:59.999999+00'
const MICROSECONDS = '2024-02-29 23:59:59.999999+00'

/**
 * Rows in every table, the awkward values included. Nothing here is old or expired enough for the
 * other daily jobs (webhook and idempotency pruning, expired sign-ins) to delete it.
 */
async function seedEveryTable(db: TestDatabase) {
  const q = (text: string, params?: unknown[]) => db.query(text, params)
  await q(
    `insert into users (id, phone, username, display_name, bio, avatar_url, credits, credit_seq, created_at, updated_at, deleted_at, operator)
     values ($1, '+15550000001', 'ada', $4, $5, null, $6, $6, $7, now(), null, true),
            ($2, null, null, null, '', null, 0, 0, now(), now(), 'infinity', false),
            ($3, '+15550000003', 'Ünïcødé_ß', '  spaces  ', '', 'https://example.com/a.png?x=1&y="2"', 0, 0, $8, $9, '-infinity', false)`,
    [
      ADA,
      GHOST,
      ANCIENT,
      UNICODE.slice(0, 60),
      UNICODE,
      MAX_INT,
      MICROSECONDS,
      MIN_TIMESTAMP,
      MAX_TIMESTAMP,
    ],
  )
  // Enough rows for several batches (10,000 rows at most each) in the tables with one-column and
  // two-column keys.
  await q(
    `insert into users (phone, username, bio, credits)
     select '+1556' || lpad(n::text, 7, '0'), 'bulk' || n, repeat('é', n % 281), n
     from generate_series(1, 12000) as n`,
  )
  await q(
    `insert into webhook_events (event_id, type, occurred_at, body, payload, received_at, applied_at, attempts, failed_at, failure_reason, next_attempt_at)
     values ('evt-json', 'peer.join.success', $1, $2::text, $2::text::jsonb, now(), now(), $3, null, null, null),
            ('evt-json-null', 'peer.leave.success', now(), 'null', 'null'::jsonb, now(), null, 0, now(), $4, '-infinity'),
            ('evt-sql-null', 'session.open.success', now(), '', null, now(), null, 1, null, null, now()),
            ('evt-large', 'recording.success', now(), $5, '"just a string"'::jsonb, now(), now(), 0, null, null, null)`,
    [MICROSECONDS, JSON_VALUE, MAX_INT, UNICODE, LARGE_TEXT],
  )
  await q(
    `insert into otp_codes (phone, code_hash, attempts, expires_at) values ('+15550000001', 'hmac', 5, now() + interval '1 day')`,
  )
  await q(
    `insert into auth_sessions (id, user_id, expires_at, user_agent, ip_prefix)
     values ('sess-ünï', $1, $2, $3, '2001:db8::/48')`,
    [ADA, MAX_TIMESTAMP, UNICODE],
  )
  await q(`insert into sms_outbox ("to", body) values ('+15550000001', $1)`, [
    UNICODE,
  ])
  await q(
    `insert into live_sessions (id, room_code, hms_room_id, host_id, title, description, is_public, max_presenters, status,
                                hms_session_id, hls_status, hls_url, hls_changed_at, ended_at, boosted_until, room_closed_at)
     values ($1, 'abc-defg-hij', 'room-live', $3, 'Live 🚀 coding', $4, true, 6, 'live', 'hms-s', 'running', 'https://cdn/x.m3u8', $5, null, 'infinity', null),
            ($2, 'klm-nopq-rst', 'room-ended', $3, 'x', '', false, 2, 'ended', null, 'off', null, null, now(), null, null)`,
    [LIVE, ENDED, ADA, UNICODE, MICROSECONDS],
  )
  await q(
    `insert into live_sessions (room_code, hms_room_id, host_id, title, is_public)
     select 'bulk-' || n, 'room-bulk-' || n, $1, 'Bulk ' || n, true from generate_series(1, 3) as n`,
    [ADA],
  )
  await q(
    `insert into session_participants (session_id, user_id, role)
     select s.id, u.id, 'viewer' from live_sessions s
     cross join (select id from users where username like 'bulk%' order by username limit 2500) as u`,
  )
  await q(
    `insert into session_participants (session_id, user_id, role, created_at) values ($1, $2, 'presenter', $3)`,
    [LIVE, ADA, MICROSECONDS],
  )
  await q(
    `insert into peer_intervals (peer_id, session_id, user_id, role, joined_at, left_at, role_changed_at)
     values ('peer-ada', $1, $2, 'host', now(), null, $3),
            ('peer-anonymous', $1, null, 'viewer-realtime', null, '-infinity', null)`,
    [LIVE, ADA, MICROSECONDS],
  )
  await q(
    `insert into orphan_hms_rooms (hms_room_id, reason, attempts) values ('room-orphan', $1, $2)`,
    [UNICODE, MAX_INT],
  )
  await q(`insert into session_settlements (session_id) values ($1)`, [ENDED])
  await q(
    `insert into credit_transactions (user_id, seq, amount, balance_after, type, session_id, counterparty_id, idempotency_key, metadata, created_at)
     values ($1, 1, $3, $4, 'admin_adjustment', $5, $2, 'key-ünï', $6::jsonb, $7),
            ($1, 2, $4, 0, 'tip_received', null, null, 'key-2', '{}', now())`,
    [ADA, GHOST, MIN_INT, MAX_INT, ENDED, BIG_NUMBER_JSON, MICROSECONDS],
  )
  await q(
    `insert into credit_transactions (user_id, seq, amount, balance_after, type, idempotency_key, metadata)
     select id, 1, 100, 100, 'bonus_welcome', 'welcome', jsonb_build_object('n', credits)
     from users where username like 'bulk%'`,
  )
  await q(
    `insert into idempotent_responses (user_id, key, fingerprint, status, body)
     values ($1, 'idem-1', 'fp', $2, $3::jsonb), ($1, 'idem-2', '', 200, 'null'::jsonb)`,
    [ADA, MIN_INT, BIG_NUMBER_JSON],
  )
  await q(
    `insert into recordings (session_id, status, hms_recording_id, hms_session_id, hms_beam_id, hms_asset_id, asset_path,
                             started_at, stopped_at, duration_seconds, size_bytes, width, height, format, failure_reason,
                             applied_rank, applied_event_at, applied_event_type)
     values ($1, 'completed', 'rec-1', 'hms-s', 'beam', 'asset', 's3://bucket/ünï.mp4', $3, now(), $4, $5, $4, 0, 'mp4', null,
             3, $3, 'recording.success'),
            ($2, 'failed', null, null, null, null, null, null, null, null, null, null, null, null, $6, 0, null, null)`,
    [LIVE, ENDED, MICROSECONDS, MAX_INT, MAX_BIGINT, UNICODE],
  )
  await q(
    `insert into session_bans (session_id, user_id, banned_by, created_at) values ($1, $2, $3, $4)`,
    [LIVE, ANCIENT, ADA, MICROSECONDS],
  )
  await q(
    `insert into chat_blocked_terms (host_id, term) values ($1, $2), ($1, 'crypto scam')`,
    [ADA, 'ünï 💥'],
  )
  await q(
    `insert into chat_messages (session_id, id, user_id, display_name, text, sent_at, is_question,
                                answered_at, hidden_at, hidden_by, is_held)
     values ($1, 1, $2, $3, $4, $5, true, null, null, null, false),
            ($1, $6, $2, 'x', '\`\`\`ts\nconst a = "<script>"\n\`\`\`', now(), false, now(), now(), $2, true)`,
    [
      ENDED,
      ADA,
      UNICODE.slice(0, 60),
      UNICODE.slice(0, 500),
      MICROSECONDS,
      MAX_INT,
    ],
  )
  // Runs of jobs that never run here (the daily prune keeps the newest 50 of each), and refusal
  // counts of hours the prune keeps (not older than 30 days).
  await q(
    `insert into job_runs (id, name, started_at, finished_at, ok, detail)
     values ('c0000000-0000-4000-8000-000000000001', 'seed-ünï', $1, $2, true, $3),
            ('c0000000-0000-4000-8000-000000000002', 'seed-failed', $4, 'infinity', false, '')`,
    [MIN_TIMESTAMP, MICROSECONDS, UNICODE, MICROSECONDS],
  )
  await q(
    `insert into rate_limit_refusals (policy, hour, refusals)
     values ('otp-send-ip', date_trunc('hour', now()), $1), ($2, 'infinity', 0)`,
    [MAX_INT, UNICODE],
  )
  await q(
    `insert into chat_moderation_actions (session_id, seq, actor_id, action, target_user_id, message_id, amount, created_at)
     values ($1, 1, $2, 'timeout', $3, null, 60, $4), ($1, 2, $2, 'hide', null, $5, null, now())`,
    [ENDED, ADA, ANCIENT, MICROSECONDS, MAX_INT],
  )
}

const withoutJobRuns = (digests: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(digests).filter(([table]) => table !== 'public.job_runs'),
  )

let source: TestDatabase
let workers: RunningWorkers
let persistTo: string
let sourceDigests: Record<string, string>
let backupId: string

beforeAll(async () => {
  source = await createTestDatabase()
  await seedEveryTable(source)
  sourceDigests = await tableDigests(source.query)
  persistTo = mkdtempSync(path.join(tmpdir(), 'kulti-drill-'))
  workers = await startWorkers(
    { DATABASE_URL: source.databaseUrl, DB_WSPROXY: source.wsProxy },
    { r2PersistTo: persistTo },
  )
}, 120_000)

afterAll(async () => {
  await workers?.dispose()
  await source?.close()
  if (persistTo) rmSync(persistTo, { recursive: true, force: true })
})

describe('the restore drill', () => {
  test('the seed fills every table in the schema (a new table needs rows here)', async () => {
    const empty = Object.entries(sourceDigests)
      .filter(([, digest]) => digest.startsWith('0 '))
      .map(([table]) => table)
    expect(empty).toEqual([])
    expect(Object.keys(sourceDigests).length).toBeGreaterThanOrEqual(13)
  })

  test('the nightly job writes a complete backup to R2 and prunes by the retention rule', async () => {
    const bucket = await workers.mf.getR2Bucket('BACKUPS')
    // Ten old nightly backups (2025-01-01 … 01-10) and an incomplete one (no manifest).
    const old = Array.from(
      { length: 10 },
      (_, i) =>
        `2025-01-${String(i + 1).padStart(2, '0')}T03-00-00.000Z-00000${i}`,
    )
    for (const id of old) {
      await bucket.put(`${id}/public.users.ndjson.gz`, 'old')
      await bucket.put(`${id}/manifest.json`, '{}')
    }
    const incomplete = '2024-06-01T03-00-00.000Z-abcdef'
    await bucket.put(`${incomplete}/public.users.ndjson.gz`, 'partial')

    expect((await workers.scheduled(DAILY)).outcome).toBe('ok')

    const line = workers
      .logs()
      .filter((l) => l.includes('"job":"backup"'))
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'job succeeded')
    expect(line).toMatchObject({
      tables: Object.keys(sourceDigests).length,
      pruned: 4,
    })
    backupId = line.backupId
    const totalRows = Object.values(sourceDigests).reduce(
      (sum, d) => sum + Number(d.split(' ')[0]),
      0,
    )
    expect(line.rows).toBe(totalRows)
    expect(line.durationMs).toBeGreaterThan(0)

    const listed = await bucket.list()
    const ids = new Set(listed.objects.map((o) => o.key.split('/')[0]))
    // Kept: the new backup, the 6 newest days before it (01-05 … 01-10; 01-10 is also January's
    // monthly), and the incomplete one, which pruning never deletes.
    expect([...ids].sort()).toEqual(
      [incomplete, ...old.slice(4), backupId].sort(),
    )
    expect(
      listed.objects.filter((o) => o.key.startsWith(`${backupId}/`)).length,
    ).toBe(Object.keys(sourceDigests).length + 1)
    // The large table went up in more than one equal part.
    const large = await bucket.head(
      `${backupId}/public.webhook_events.ndjson.gz`,
    )
    expect(large?.size).toBeGreaterThan(PART_SIZE)
    // The other daily jobs that ran beside it deleted nothing of the seed; the only change is
    // job_runs, where the invocation recorded its runs once every job (the backup too) finished.
    const after = await tableDigests(source.query)
    expect(withoutJobRuns(after)).toEqual(withoutJobRuns(sourceDigests))
    expect(
      await source.query(
        "select name, ok from job_runs where name not like 'seed-%' order by name",
      ),
    ).toEqual(
      [
        'backup',
        'delete-expired-sign-ins',
        'prune-idempotency-records',
        'prune-operations-records',
        'prune-webhook-events',
      ].map((name) => ({ name, ok: true })),
    )
    expect(
      await source.query(
        "select count(*)::int as n from job_runs where name like 'seed-%'",
      ),
    ).toEqual([{ n: 2 }])
  }, 120_000)

  test('db:verify finds it whole; db:restore rebuilds every table identically in an empty database', async () => {
    const target: EmptyDatabase = await createEmptyDatabase()
    try {
      const verified = await runNpmScript(source, 'db:verify', [
        backupId,
        '--persist-to',
        persistTo,
      ])
      expect(verified.stdout).toContain(`db:verify: OK: backup ${backupId}`)
      expect(verified.code).toBe(0)

      const restored = await runNpmScript(source, 'db:restore', [
        backupId,
        '--target',
        target.url,
        '--yes',
        '--persist-to',
        persistTo,
      ])
      expect(restored.stderr).not.toContain('refused')
      expect(restored.stdout).toContain(`restored backup ${backupId}`)
      expect(restored.code).toBe(0)

      expect(await tableDigests(target.query)).toEqual(sourceDigests)
      const migrations =
        'select max(created_at)::text as at from drizzle.__drizzle_migrations'
      expect(await target.query(migrations)).toEqual(
        await source.query(migrations),
      )
    } finally {
      await target.close()
    }
  }, 180_000)

  test('a backup that fails is reported and leaves no partial backup behind', async () => {
    await source.query('create table public.no_key (value text)')
    try {
      const before = (await (await workers.mf.getR2Bucket('BACKUPS')).list())
        .objects.length
      expect((await workers.scheduled(DAILY)).outcome).not.toBe('ok')
      expect(await workers.errorLogged('"job":"backup"')).toBe(true)
      expect(
        workers.logs().some((l) => l.includes('no_key has no primary key')),
      ).toBe(true)
      const after = (await (await workers.mf.getR2Bucket('BACKUPS')).list())
        .objects.length
      expect(after).toBe(before)
    } finally {
      await source.query('drop table public.no_key')
    }
    // The drill's tables are still what was backed up.
    expect((await userTables(source.query)).length).toBe(
      Object.keys(sourceDigests).length,
    )
  }, 120_000)
})
