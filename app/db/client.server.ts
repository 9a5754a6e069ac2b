import { Pool, neonConfig, type PoolClient } from '@neondatabase/serverless'
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

/**
 * Told about every stretch of database work (opening the connection, each query): `start` is
 * called when it begins, the function it returns when it ends. Monitoring times queries with it
 * (Server-Timing `db`, slow-query warnings) without this module knowing monitoring.
 */
export type QueryObserver = (what: string) => () => void

export function openRequestDatabase(
  config: DatabaseConfig,
  observe?: QueryObserver,
): RequestDatabase {
  let pool: Pool | undefined
  let db: Db | undefined
  return {
    get db() {
      if (!db) {
        pool = createPool(config)
        if (observe) observePool(pool, observe)
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

type Callback = (...args: unknown[]) => void

/**
 * Wraps `pool.connect` and every client's `query` so `observe` sees each one start and end, in
 * both of pg's calling styles (a promise, or a callback as last argument).
 */
function observePool(pool: Pool, observe: QueryObserver): void {
  const observed = <F extends (...args: never[]) => unknown>(
    original: F,
    describe: (args: unknown[]) => string,
  ) =>
    function (this: unknown, ...args: unknown[]) {
      const end = observe(describe(args))
      const last = args.length - 1
      if (typeof args[last] === 'function') {
        const callback = args[last] as Callback
        args[last] = (...results: unknown[]) => {
          end()
          callback(...results)
        }
        return original.apply(this, args as never)
      }
      const result = original.apply(this, args as never)
      if (result instanceof Promise) return result.finally(end)
      end()
      return result
    } as unknown as F
  pool.connect = observed(pool.connect, () => 'connect')
  // Each new connection's queries (pool.query and transactions both run on one).
  pool.on('connect', (client: PoolClient) => {
    client.query = observed(client.query, ([query]) => describeQuery(query))
  })
}

/** The statement (never its parameters), short enough for a log line. */
function describeQuery(query: unknown): string {
  const text =
    typeof query === 'string'
      ? query
      : typeof query === 'object' && query !== null && 'text' in query
        ? String(query.text)
        : 'query'
  return text.replace(/\s+/g, ' ').slice(0, 200)
}
