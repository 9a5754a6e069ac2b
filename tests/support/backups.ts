// Helpers for the backup tests: databases to restore into, and each table's content digested by SQL
// of its own (a row's record text, in primary-key order), independent of the backup code under test.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.mjs'

export interface EmptyDatabase {
  url: string
  /** One connection per call, closed before returning: never held while a script runs. */
  query<T = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>
  close(): Promise<void>
}

/**
 * A database with nothing in it, not even migrations: a fresh `kulti_t_<random>` on the Postgres at
 * TEST_DATABASE_URL when it is set, otherwise an in-memory embedded PGlite.
 */
export async function createEmptyDatabase(): Promise<EmptyDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL
  if (!serverUrl) {
    const embedded = await startEmbeddedPostgres()
    return {
      url: embedded.connectionString,
      query: (text, params) =>
        queryOnce(embedded.connectionString, text, params),
      close: () => embedded.close(),
    }
  }
  const name = `kulti_t_${randomBytes(6).toString('hex')}`
  await queryOnce(serverUrl, `create database "${name}"`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    query: (text, params) => queryOnce(url.toString(), text, params),
    close: async () => {
      await queryOnce(
        serverUrl,
        `drop database if exists "${name}" with (force)`,
      )
    },
  }
}

async function queryOnce<T>(
  url: string,
  text: string,
  params?: unknown[],
): Promise<T[]> {
  // The embedded database frees its one connection a beat after the previous client left.
  const deadline = Date.now() + 2_000
  for (;;) {
    const client = new pg.Client({ connectionString: url })
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
      continue
    }
    try {
      return (await client.query(text, params)).rows as T[]
    } finally {
      await client.end().catch(() => {})
    }
  }
}

type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>

/** Every user table (outside the system schemas and drizzle's bookkeeping) with its primary key. */
export async function userTables(
  query: Query,
): Promise<Array<{ table: string; key: string[] }>> {
  const rows = await query<{ table: string; key: string[] | null }>(`
    select format('%I.%I', n.nspname, c.relname) as table,
      (select array_agg(quote_ident(a.attname) order by k.ord)
         from pg_index i
         cross join unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where i.indrelid = c.oid and i.indisprimary) as key
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname not in ('information_schema', 'drizzle')
      and left(n.nspname, 3) <> 'pg_'
    order by 1`)
  return rows.map((r) => ({ table: r.table, key: r.key ?? [] }))
}

/** `table → "<rows> <md5 of every row's text, in primary-key order>"`, for every user table. */
export async function tableDigests(
  query: Query,
): Promise<Record<string, string>> {
  const digests: Record<string, string> = {}
  for (const { table, key } of await userTables(query)) {
    const [row] = await query<{ rows: number; digest: string | null }>(
      `select count(*)::int as rows, md5(string_agg(t::text, E'\\n' order by ${key.join(', ')})) as digest
       from ${table} as t`,
    )
    digests[table] = `${row?.rows} ${row?.digest ?? ''}`
  }
  return digests
}
