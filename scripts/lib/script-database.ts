// The database an operator's Node script (credits:adjust, credits:audit) works on, through the same
// driver and model code as the Workers: the Postgres at DATABASE_URL, or, when it is unset, the
// embedded PGlite that `npm run dev` keeps in .data/pglite.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import { neonConfig } from '@neondatabase/serverless'
import { sql } from 'drizzle-orm'
import { WebSocket } from 'ws'
import {
  openRequestDatabase,
  queryRows,
  type Db,
} from '../../app/db/client.server'
import { DEFAULT_DATA_DIR, redact } from './dev-stack.mjs'
import { startEmbeddedPostgres } from './embedded-postgres.mjs'
import { isLoopbackHost, startWsRelay } from './ws-relay.mjs'

/** A failure the operator can act on: the script prints its message and exits 1, no stack trace. */
export class ScriptError extends Error {}

export interface ScriptDatabase {
  db: Db
  /** What the script is working on, for its output (never a password). */
  description: string
  close(): Promise<void>
}

/**
 * Opens the database for `script`. With DATABASE_URL, that Postgres (through a loopback relay when
 * it is local, or the relay named by DB_WSPROXY); without it, the embedded dev database, which
 * only one process can have open: while `npm run dev` runs, this refuses and says so.
 */
export async function openScriptDatabase(
  script: string,
): Promise<ScriptDatabase> {
  // Node 20 has no global WebSocket; the driver speaks to Neon (or the local relay) through `ws`.
  neonConfig.webSocketConstructor = WebSocket
  const url = process.env.DATABASE_URL
  if (url) return openPostgres(url)
  return openEmbedded(script)
}

async function openPostgres(url: string): Promise<ScriptDatabase> {
  let hostname: string
  try {
    hostname = new URL(url).hostname
  } catch {
    throw new ScriptError('DATABASE_URL is not a postgresql:// URL.')
  }
  // A local Postgres speaks TCP, not WebSocket: relay it as `npm run dev` does (or through the
  // relay already running, named by DB_WSPROXY).
  const relay =
    !process.env.DB_WSPROXY && isLoopbackHost(hostname)
      ? await startWsRelay()
      : undefined
  const database = openRequestDatabase({
    DATABASE_URL: url,
    DB_WSPROXY: process.env.DB_WSPROXY ?? relay?.address,
  })
  return {
    db: database.db,
    description: redact(url),
    async close() {
      await database.close()
      await relay?.close()
    },
  }
}

async function openEmbedded(script: string): Promise<ScriptDatabase> {
  const dataDir = DEFAULT_DATA_DIR
  const shown = path.relative(process.cwd(), dataDir) || dataDir
  if (!existsSync(path.join(dataDir, 'PG_VERSION')))
    throw new ScriptError(
      `DATABASE_URL is not set and there is no embedded dev database in ${shown}/ yet ` +
        '(`npm run dev` creates it). Set DATABASE_URL to the Postgres to work on, e.g.\n' +
        `  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kulti npm run ${script}`,
    )
  const holders = processesUsing(dataDir)
  if (holders.length > 0)
    throw new ScriptError(
      `the embedded dev database (${shown}/) is open in another process ` +
        `(${holders.map((h) => `pid ${h.pid}: ${h.command}`).join('; ')}), ` +
        'most likely `npm run dev`. PGlite is a single-process database: it cannot be opened twice. ' +
        `Stop \`npm run dev\` (Ctrl-C) and run \`npm run ${script}\` again, ` +
        'or set DATABASE_URL to a Postgres.',
    )
  const postgres = await startEmbeddedPostgres({ dataDir })
  // One backend: the relay makes the driver's connections take turns on it.
  const relay = await startWsRelay({ serialize: true }).catch(async (error) => {
    await postgres.close()
    throw error
  })
  const database = openRequestDatabase({
    DATABASE_URL: postgres.connectionString,
    DB_WSPROXY: relay.address,
  })
  return {
    db: database.db,
    description: `the embedded dev database (${shown}/)`,
    async close() {
      await database.close()
      await relay.close()
      await postgres.close()
    },
  }
}

/**
 * Other processes with a file under `dir` open. PGlite keeps its WAL and relation files open for
 * as long as it runs, and has no lock file of its own, so open files are how to tell. Linux reads
 * /proc; elsewhere this finds nothing and the script goes ahead.
 */
function processesUsing(dir: string): Array<{ pid: number; command: string }> {
  if (!existsSync('/proc/self/fd')) return []
  const prefix = `${path.resolve(dir)}${path.sep}`
  const found: Array<{ pid: number; command: string }> = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue // gone, or not ours to look at
    }
    const opens = fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(prefix)
      } catch {
        return false
      }
    })
    if (opens) found.push({ pid, command: commandLine(pid) })
  }
  return found
}

function commandLine(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean)
    return argv.join(' ').slice(0, 120) || '?'
  } catch {
    return '?'
  }
}

/**
 * Refuses a database the credits migration has not reached, with what to do, rather than failing
 * later on a missing relation.
 */
export async function requireCreditsLedger(db: Db): Promise<void> {
  const [row] = await queryRows<{ ledger: boolean; seq: boolean }>(
    db,
    sql`select to_regclass('public.credit_transactions') is not null as ledger,
          exists (select 1 from information_schema.columns
                  where table_schema = 'public' and table_name = 'users'
                    and column_name = 'credit_seq') as seq`,
  )
  if (!row?.ledger || !row.seq)
    throw new ScriptError(
      'this database has no credits ledger yet (migration 0004_credits): apply the migrations ' +
        'first (`npm run db:migrate` with DATABASE_URL, or start `npm run dev` once for the embedded database).',
    )
}

/** Runs a script's body: a ScriptError or any failure is one line on stderr and exit code 1. */
export async function runScript(
  script: string,
  body: () => Promise<number>,
): Promise<void> {
  try {
    process.exitCode = await body()
  } catch (error) {
    // A failed query's own message is its SQL; the reason (`database "x" does not exist`,
    // a refused connection) is its cause.
    const reason =
      error instanceof Error && error.cause instanceof Error
        ? error.cause.message
        : error instanceof Error
          ? error.message
          : String(error)
    const message =
      error instanceof ScriptError ? error.message : `failed: ${reason}`
    console.error(`${script}: ${message}`)
    process.exitCode = 1
  }
}
