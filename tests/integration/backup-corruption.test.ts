// db:verify and db:restore against damaged backups, and db:restore's rules about its target: a
// refused restore leaves the target exactly as it was (no migration run, no row changed).
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import journal from '../../migrations/meta/_journal.json'
import { migrate } from '../../scripts/lib/migrate.mjs'
import { startWsRelay } from '../../scripts/lib/ws-relay.mjs'
import {
  createEmptyDatabase,
  tableDigests,
  type EmptyDatabase,
} from '../support/backups'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { runNpmScript } from '../support/scripts'

let source: TestDatabase
// Refused restores go here; each test checks it is still bare, so they can share it.
let bare: EmptyDatabase
let work: string
let backup: string
let sourceDigests: Record<string, string>

async function seed(query: TestDatabase['query']) {
  await query(
    `insert into users (phone, username, bio, credits)
     select '+1557' || lpad(n::text, 7, '0'), 'user' || n, repeat('ü', n % 200), n
     from generate_series(1, 3000) as n`,
  )
  await query(
    `insert into credit_transactions (user_id, seq, amount, balance_after, type, idempotency_key)
     select id, 1, 100, 100, 'bonus_welcome', 'welcome' from users`,
  )
}

/** A copy of the good backup, damaged by `damage` (given the copy's folder). */
function damagedCopy(name: string, damage: (folder: string) => void): string {
  const folder = path.join(work, name, path.basename(backup))
  cpSync(backup, folder, { recursive: true })
  damage(folder)
  return folder
}

const file = (folder: string, table: string) =>
  path.join(folder, `public.${table}.ndjson.gz`)

/** What an untouched empty target looks like: no tables, not even drizzle's. */
async function isBare(target: EmptyDatabase) {
  const [row] = await target.query<{ tables: number }>(
    `select count(*)::int as tables from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')`,
  )
  return row?.tables === 0
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'kulti-corruption-'))
  source = await createTestDatabase()
  await seed(source.query)
  sourceDigests = await tableDigests(source.query)
  const made = await runNpmScript(source, 'db:backup', [
    '--out',
    path.join(work, 'good'),
  ])
  expect(made.stderr).not.toContain('failed')
  expect(made.code).toBe(0)
  const [id] = readdirSync(path.join(work, 'good'))
  backup = path.join(work, 'good', id!)
  bare = await createEmptyDatabase()
}, 120_000)

afterAll(async () => {
  await bare?.close()
  await source?.close()
  if (work) rmSync(work, { recursive: true, force: true })
})

const damages: Array<[string, (folder: string) => void, RegExp]> = [
  [
    'a flipped byte',
    (folder) => {
      const bytes = readFileSync(file(folder, 'users'))
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01
      writeFileSync(file(folder, 'users'), bytes)
    },
    /public\.users: .*(damaged|SHA-256)/,
  ],
  [
    'a truncated part',
    (folder) => {
      const size = readFileSync(file(folder, 'users')).length
      truncateSync(file(folder, 'users'), Math.floor(size / 2))
    },
    /public\.users: .*damaged or truncated/,
  ],
  [
    'a missing part',
    (folder) => unlinkSync(file(folder, 'credit_transactions')),
    /public\.credit_transactions: its file .* is missing/,
  ],
  [
    'a missing manifest',
    (folder) => unlinkSync(path.join(folder, 'manifest.json')),
    /no manifest\.json: the backup is incomplete/,
  ],
  [
    'a manifest of a newer format',
    (folder) => {
      const manifest = JSON.parse(
        readFileSync(path.join(folder, 'manifest.json'), 'utf8'),
      )
      writeFileSync(
        path.join(folder, 'manifest.json'),
        JSON.stringify({ ...manifest, formatVersion: 2, newField: true }),
      )
    },
    /format version 2, newer than this checkout reads/,
  ],
]

describe('a damaged backup is refused by db:verify and db:restore, and the target is untouched', () => {
  test.each(damages)(
    '%s',
    async (name, damage, reason) => {
      const copy = damagedCopy(name.replace(/\W+/g, '-'), damage)
      const verified = await runNpmScript(source, 'db:verify', [copy])
      expect(verified.stdout + verified.stderr).toMatch(reason)
      expect(verified.code).toBe(1)

      const restored = await runNpmScript(source, 'db:restore', [
        copy,
        '--target',
        bare.url,
        '--yes',
      ])
      expect(restored.stdout + restored.stderr).toMatch(reason)
      expect(restored.stderr).toContain('refused')
      expect(restored.stderr).toContain('nothing was changed')
      expect(restored.code).toBe(1)
      expect(await isBare(bare)).toBe(true)
    },
    120_000,
  )
})

describe("db:restore's target", () => {
  let populated: TestDatabase
  let populatedDigests: Record<string, string>

  beforeAll(async () => {
    populated = await createTestDatabase()
    await populated.query(
      `insert into users (phone, username) values ('+15559990002', 'already_here')`,
    )
    populatedDigests = await tableDigests(populated.query)
  }, 60_000)

  afterAll(async () => {
    await populated?.close()
  })

  test('a database that holds rows is refused without --force, and left as it was', async () => {
    const restored = await runNpmScript(source, 'db:restore', [
      backup,
      '--target',
      populated.databaseUrl,
      '--yes',
    ])
    expect(restored.stderr).toMatch(
      /refused: the target is not empty \(rows in public\.users\).*--force/,
    )
    expect(restored.code).toBe(1)
    expect(await tableDigests(populated.query)).toEqual(populatedDigests)
  }, 120_000)

  test('--force does not let a damaged backup replace a database that holds data', async () => {
    const copy = damagedCopy('flipped-force', damages[0]![1])
    const restored = await runNpmScript(source, 'db:restore', [
      copy,
      '--target',
      populated.databaseUrl,
      '--yes',
      '--force',
    ])
    expect(restored.stderr).toContain('refused')
    expect(restored.code).toBe(1)
    expect(await tableDigests(populated.query)).toEqual(populatedDigests)
  }, 120_000)

  test('without a terminal to ask on, it needs --yes, and changes nothing until then', async () => {
    const restored = await runNpmScript(source, 'db:restore', [
      backup,
      '--target',
      bare.url,
    ])
    expect(restored.stderr).toMatch(/refused: .*pass --yes/)
    expect(restored.code).toBe(1)
    expect(await isBare(bare)).toBe(true)
  }, 120_000)

  test('with --force, everything in the target is replaced by the backup', async () => {
    const restored = await runNpmScript(source, 'db:restore', [
      backup,
      '--target',
      populated.databaseUrl,
      '--yes',
      '--force',
    ])
    expect(restored.stdout).toContain('every row count and digest matches')
    expect(restored.code).toBe(0)
    expect(await tableDigests(populated.query)).toEqual(sourceDigests)
  }, 120_000)
})

describe('migrations up to the backup’s version', () => {
  // 0005 is the first migration with every table the product cannot lose (recordings).
  const older = journal.entries.find((e) => e.tag === '0005_recordings')!

  test('a backup of an older schema is restored at that schema, and a newer target is refused', async () => {
    const old = await createEmptyDatabase()
    const relay = await startWsRelay({ serialize: true })
    const target = await createEmptyDatabase()
    try {
      await migrate(old.url, { upTo: older.when })
      await old.query(
        `insert into users (phone, username) values ('+15559990003', 'from_the_past')`,
      )
      const oldDigests = await tableDigests(old.query)
      const out = path.join(work, 'older')
      const made = await runNpmScript(
        { databaseUrl: old.url, wsProxy: relay.address },
        'db:backup',
        ['--out', out],
      )
      expect(made.code).toBe(0)
      const olderBackup = path.join(out, readdirSync(out)[0]!)

      const restored = await runNpmScript(source, 'db:restore', [
        olderBackup,
        '--target',
        target.url,
        '--yes',
      ])
      expect(restored.stdout).toContain(
        `The database is at migration ${older.tag}`,
      )
      expect(restored.code).toBe(0)
      const [at] = await target.query<{ at: string }>(
        'select max(created_at)::text as at from drizzle.__drizzle_migrations',
      )
      expect(Number(at?.at)).toBe(older.when)
      expect(await tableDigests(target.query)).toEqual(oldDigests)

      // The source (every migration) is newer than the backup: migrations only go forward.
      const refused = await runNpmScript(source, 'db:restore', [
        olderBackup,
        '--target',
        source.databaseUrl,
        '--yes',
        '--force',
      ])
      expect(refused.stderr).toMatch(
        /refused: the target is at migration .*, newer than the backup's/,
      )
      expect(refused.code).toBe(1)
      expect(await tableDigests(source.query)).toEqual(sourceDigests)
    } finally {
      await relay.close()
      await old.close()
      await target.close()
    }
  }, 120_000)
})
