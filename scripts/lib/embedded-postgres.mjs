// Embedded Postgres for development and tests: PGlite (Postgres 17 compiled to WASM) served on a
// TCP port by pglite-socket, so `pg` and the WebSocket relay reach it like any Postgres.
//
// PGlite is ONE backend. pglite-socket 0.2.17 accepts `maxConnections` (default 1) and, above 1,
// interleaves the messages of several connections on that backend, which only keeps explicit
// transactions together: the extended-query messages (Parse/Bind/Execute/Sync) and session state
// of two clients mix. So it runs with one connection, and everything that shares it goes through
// the serialising relay (`startWsRelay({ serialize: true })`). A second direct connection while
// one is open is not queued: Node drops it, or pglite-socket answers "Too many connections" in
// plain text, and `pg` reports "Connection terminated unexpectedly". Run direct `pg` work
// (migrations, seeds) before clients connect through the relay.

import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

/**
 * @param {{ dataDir?: string, host?: string, port?: number }} [options]
 *   `dataDir` undefined keeps the database in memory.
 * @returns {Promise<{ port: number, connectionString: string, close(): Promise<void> }>}
 */
export async function startEmbeddedPostgres({
  dataDir,
  host = '127.0.0.1',
  port = 0,
} = {}) {
  if (dataDir) await mkdir(dataDir, { recursive: true })
  const db = await PGlite.create(dataDir)
  const server = new PGLiteSocketServer({ db, host, port, maxConnections: 1 })
  try {
    // Port 0 works: the server listens on it and reads the port the OS chose back.
    await server.start()
  } catch (error) {
    await db.close()
    throw error
  }
  const conn = server.getServerConn() // "host:port"
  const boundPort = Number(conn.slice(conn.lastIndexOf(':') + 1))
  const urlHost = host.includes(':') ? `[${host}]` : host

  let closing
  return {
    port: boundPort,
    connectionString: `postgresql://postgres@${urlHost}:${boundPort}/postgres`,
    close() {
      closing ??= (async () => {
        await server.stop()
        // stop() detaches connections without awaiting them; a detaching connection that was in a
        // transaction still runs ROLLBACK, which must not meet a closed database.
        const deadline = Date.now() + 2_000
        while (db.isInTransaction() && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        await new Promise((resolve) => setImmediate(resolve))
        await db.close()
      })()
      return closing
    },
  }
}
