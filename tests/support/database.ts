import { randomBytes } from 'node:crypto'
import { Duplex } from 'node:stream'
import pg from 'pg'
import { WebSocket } from 'ws'
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.mjs'
import { migrate } from '../../scripts/lib/migrate.mjs'
import {
  isLoopbackHost,
  startWsRelay,
  type RelayStats,
} from '../../scripts/lib/ws-relay.mjs'

export interface TestDatabase {
  /** Connection string for the driver (through the relay) and for `pg`. */
  databaseUrl: string
  /** host:port of the WebSocket relay, for `DB_WSPROXY` / `neonConfig.wsProxy`. */
  wsProxy: string
  /**
   * The relay's cumulative counters (connections, clients, round trips: ReadyForQuery messages
   * after startup); see `RelayStats`. With TEST_DATABASE_URL only the Workers go through the relay;
   * embedded, `query` does too.
   */
  relayStats(): RelayStats
  /** For test assertions and setup; results are parsed by `pg` in both modes. */
  query<T = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>
  close(): Promise<void>
}

// How long `query` waits for the embedded database (see createEmbeddedDatabase) before giving up.
const QUERY_CONNECT_TIMEOUT_MS = 10_000

/**
 * An isolated, migrated database: a fresh `kulti_t_<random>` database on the Postgres at
 * TEST_DATABASE_URL when it is set, otherwise an in-memory embedded PGlite.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL
  return serverUrl ? createServerDatabase(serverUrl) : createEmbeddedDatabase()
}

async function createServerDatabase(serverUrl: string): Promise<TestDatabase> {
  const url = new URL(serverUrl)
  if (!isLoopbackHost(url.hostname)) {
    throw new Error(
      `TEST_DATABASE_URL must point at this machine (the relay only reaches loopback): ${url.hostname}`,
    )
  }
  const name = `kulti_t_${randomBytes(6).toString('hex')}`
  await withAdmin(serverUrl, (admin) =>
    admin.query(`create database "${name}"`),
  )
  url.pathname = `/${name}`
  const databaseUrl = url.toString()

  let relay: Awaited<ReturnType<typeof startWsRelay>> | undefined
  let pool: pg.Pool | undefined
  const stop = async () => {
    await pool?.end().catch(() => {})
    await relay?.close()
    await withAdmin(serverUrl, async (admin) => {
      // Connections a test leaked (a Worker's Pool that was never ended) would block the drop.
      await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [name],
      )
      await admin.query(`drop database if exists "${name}" with (force)`)
    })
  }
  try {
    await migrate(databaseUrl)
    relay = await startWsRelay()
    pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 4,
      idleTimeoutMillis: 1_000,
    })
    pool.on('error', () => {})
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
  const queries = pool
  let closing: Promise<void> | undefined
  return {
    databaseUrl,
    wsProxy: relay.address,
    relayStats: relay.stats,
    async query<T>(text: string, params?: unknown[]) {
      const result = await queries.query(text, params)
      return result.rows as T[]
    },
    close: () => (closing ??= stop()),
  }
}

async function withAdmin<T>(
  serverUrl: string,
  work: (admin: pg.Client) => Promise<T>,
) {
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.end().catch(() => {})
  }
}

/**
 * Embedded PGlite has one backend, shared by everything through the serialising relay: a client
 * holds it from connect until it closes or sends Terminate, the others queue.
 *
 * `query` goes through that same queue, opening a connection per call and closing it at once, so
 * it never holds the backend between calls: a Worker (or a neon Pool in the test) is never blocked
 * by the test's assertions. A persistent connection would block every Worker forever; bypassing the
 * relay (a second socket connection, or PGlite in-process) would slip the assertion in between the
 * messages of a Worker's query or inside its transaction, on the same session.
 *
 * The price: a `query` waits while a relay client holds the backend, normally only until a request's
 * `pool.end()` (sent from waitUntil, just after the response). Calling it while the test itself
 * keeps a connection open (an un-ended Pool, a transaction in progress) would wait forever, so it
 * gives up after QUERY_CONNECT_TIMEOUT_MS and says why. With TEST_DATABASE_URL there is no queue.
 */
async function createEmbeddedDatabase(): Promise<TestDatabase> {
  const embedded = await startEmbeddedPostgres()
  let relay: Awaited<ReturnType<typeof startWsRelay>> | undefined
  try {
    // Direct `pg` first, relay clients after: the socket server takes one connection at a time.
    await migrate(embedded.connectionString)
    relay = await startWsRelay({ serialize: true })
  } catch (error) {
    await embedded.close().catch(() => {})
    throw error
  }
  const wsProxy = relay.address
  const relayStats = relay.stats
  const stop = async () => {
    await relay?.close()
    await embedded.close()
  }
  let closing: Promise<void> | undefined
  return {
    databaseUrl: embedded.connectionString,
    wsProxy,
    relayStats,
    query: relayQuery(embedded.connectionString, wsProxy),
    close: () => (closing ??= stop()),
  }
}

/**
 * A `query` that takes its turn in the relay's queue, opening a connection per call and closing it
 * at once (see createEmbeddedDatabase): safe on a database whose only connection the Workers share,
 * such as the one a dev stack serves (its `databaseUrl` and `wsProxy`).
 */
export function relayQuery(
  connectionString: string,
  wsProxy: string,
): TestDatabase['query'] {
  return async function query<T>(text: string, params?: unknown[]) {
    const client = new pg.Client({
      connectionString,
      stream: () => new RelaySocket(wsProxy),
      connectionTimeoutMillis: QUERY_CONNECT_TIMEOUT_MS,
    })
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      if (error instanceof Error && /timeout/i.test(error.message)) {
        throw new Error(
          `TestDatabase.query waited ${QUERY_CONNECT_TIMEOUT_MS} ms for the embedded database: ` +
            'something still holds its only connection (an un-ended Pool or an open transaction). ' +
            'End it before querying, or run with TEST_DATABASE_URL.',
          { cause: error },
        )
      }
      throw error
    }
    try {
      const result = await client.query(text, params)
      return result.rows as T[]
    } finally {
      await client.end().catch(() => {})
    }
  }
}

/**
 * A socket-like Duplex that lets `pg` speak through the WebSocket relay, the way the neon
 * driver does, so test queries take their turn in the relay's queue.
 */
class RelaySocket extends Duplex {
  private ws: WebSocket | undefined

  constructor(private readonly relayAddress: string) {
    super()
  }

  connect(port: number, host: string) {
    const ws = new WebSocket(
      `ws://${this.relayAddress}/v2?address=${host}:${port}`,
    )
    this.ws = ws
    ws.binaryType = 'nodebuffer'
    ws.on('open', () => this.emit('connect'))
    ws.on('message', (data: Buffer) => this.push(data))
    ws.on('error', (error) => this.destroy(error))
    ws.on('close', (code, reason) => {
      if (code === 1000 || code === 1005) {
        this.push(null)
        this.end()
      } else {
        this.destroy(
          new Error(
            `relay closed the connection: ${code} ${reason.toString()}`,
          ),
        )
      }
    })
    return this
  }

  setNoDelay() {
    return this
  }

  setKeepAlive() {
    return this
  }

  ref() {
    return this
  }

  unref() {
    return this
  }

  override _read() {}

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ) {
    if (this.ws?.readyState !== WebSocket.OPEN) {
      callback(new Error('relay connection is not open'))
      return
    }
    this.ws.send(chunk, { binary: true }, (error) => callback(error ?? null))
  }

  override _final(callback: (error?: Error | null) => void) {
    this.ws?.close(1000)
    callback()
  }

  override _destroy(
    error: Error | null,
    callback: (error?: Error | null) => void,
  ) {
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate()
    callback(error)
  }
}
