import { Pool, neonConfig } from '@neondatabase/serverless'
import type { SQL } from 'drizzle-orm'
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless'
import * as schema from './schema'

export type Db = NeonDatabase<typeof schema>
/** The handle inside `db.transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/** The rows of a raw SQL query (for what the query builder cannot say in one round trip). */
export async function queryRows<T extends object>(
  db: Db | Tx,
  query: SQL,
): Promise<T[]> {
  return (await db.execute(query)).rows as unknown as T[]
}

export interface DatabaseConfig {
  DATABASE_URL: string
  /** host:port of the local WebSocket relay; unset in production, where the driver speaks wss to Neon. */
  DB_WSPROXY?: string
}

/**
 * One Pool per request, opened on first use and closed by the caller once the response is done.
 * A Pool kept per isolate fails in Workers: "Cannot perform I/O on behalf of a different request".
 */
export interface RequestDatabase {
  readonly db: Db
  close(): Promise<void>
}

export function openRequestDatabase(config: DatabaseConfig): RequestDatabase {
  let pool: Pool | undefined
  let db: Db | undefined
  return {
    get db() {
      if (!db) {
        pool = createPool(config)
        db = drizzle(pool, { schema })
      }
      return db
    },
    async close() {
      const open = pool
      pool = undefined
      db = undefined
      await open?.end().catch(() => {})
    },
  }
}

function createPool({ DATABASE_URL, DB_WSPROXY }: DatabaseConfig): Pool {
  if (DB_WSPROXY) {
    // The relay (scripts/lib/ws-relay.mjs) speaks plain ws on loopback and forwards raw
    // Postgres bytes, so the driver must not wrap them in TLS or pipeline the handshake.
    neonConfig.wsProxy = (host, port) =>
      `${DB_WSPROXY}/v2?address=${host}:${port}`
    neonConfig.useSecureWebSocket = false
    neonConfig.pipelineTLS = false
    neonConfig.pipelineConnect = false
  }
  // One connection per request: a request's loaders take turns on it rather than each paying for
  // a WebSocket and a Postgres handshake. It also keeps the embedded PGlite (one backend, shared
  // through a serialising relay) from deadlocking when two loaders of one page query at once.
  const pool = new Pool({
    connectionString: DATABASE_URL,
    connectionTimeoutMillis: 5_000,
    max: 1,
  })
  // An idle client that loses its socket emits 'error' on the pool; without a listener that
  // would be an uncaught exception. The next query reports the failure where it matters.
  pool.on('error', () => {})
  return pool
}
