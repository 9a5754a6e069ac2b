// The database db:backup reads, in one REPEATABLE READ, READ ONLY transaction. A Postgres at
// DATABASE_URL is read with `pg` over TCP, as pg_dump reads it (a WebSocket relay in between costs
// a third of the time on a large table); through the relay named by DB_WSPROXY, or the embedded dev
// database when DATABASE_URL is unset, with the driver the Workers use (openScriptDatabase).
import { drizzle } from 'drizzle-orm/node-postgres'
import { queryRows } from '../../app/db/client.server'
import type { RunQuery } from '../../workers/jobs/backup/snapshot'
import { redact } from './dev-stack.mjs'
import { connect } from './migrate.mjs'
import { openScriptDatabase, ScriptError } from './script-database'

export interface SnapshotSource {
  /** What is read, for messages (never a password). */
  description: string
  inSnapshot<T>(work: (run: RunQuery) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export async function openSnapshotSource(
  script: string,
): Promise<SnapshotSource> {
  const url = process.env.DATABASE_URL
  if (!url || process.env.DB_WSPROXY) {
    const database = await openScriptDatabase(script)
    return {
      description: database.description,
      inSnapshot: (work) =>
        database.db.transaction((tx) => work((query) => queryRows(tx, query)), {
          isolationLevel: 'repeatable read',
          accessMode: 'read only',
        }),
      close: () => database.close(),
    }
  }
  let client: Awaited<ReturnType<typeof connect>>
  try {
    client = await connect(url)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ScriptError(`cannot connect to ${redact(url)}: ${reason}`)
  }
  const db = drizzle(client)
  const run: RunQuery = async (query) => (await db.execute(query)).rows as never
  return {
    description: redact(url),
    async inSnapshot(work) {
      await client.query('begin isolation level repeatable read, read only')
      try {
        const result = await work(run)
        await client.query('commit')
        return result
      } catch (error) {
        await client.query('rollback').catch(() => {})
        throw error
      }
    },
    close: () => client.end().catch(() => {}),
  }
}
