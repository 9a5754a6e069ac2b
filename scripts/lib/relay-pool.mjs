// The relay's pool of upstream Postgres backends, standing in for Neon's pooled endpoint (ADR 020).
// A backend is one TCP connection to Postgres that has completed its startup. It serves one client
// at a time for the client's whole WebSocket (session pooling); when the client leaves, the backend
// is reset (ROLLBACK if a transaction is open, then DISCARD ALL) and parked, idle, under the key of
// the StartupMessage that opened it, for the next client that sends the same one. A backend that
// cannot be proved clean is closed instead, never handed on.

import net from 'node:net'
import {
  admittedWithoutCredentials,
  createBackendParser,
  isReadyForQuery,
  readyStatus,
} from './pg-framing.mjs'

// Give an upstream that was asked to end this long to close before destroying it.
const UPSTREAM_END_GRACE_MS = 1_000
// A reset that takes longer than this means a stuck backend: close it.
const RESET_TIMEOUT_MS = 5_000

const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4])

/** @param {string} sql a simple Query message */
function query(sql) {
  const text = Buffer.from(`${sql}\0`)
  const header = Buffer.alloc(5)
  header.write('Q', 0, 'ascii')
  header.writeInt32BE(4 + text.length, 1)
  return Buffer.concat([header, text])
}
// DISCARD ALL: CLOSE ALL, SET SESSION AUTHORIZATION DEFAULT, RESET ALL, DEALLOCATE ALL, UNLISTEN *,
// pg_advisory_unlock_all(), DISCARD PLANS, TEMP and SEQUENCES. It refuses to run inside a
// transaction block, hence a separate ROLLBACK first when one is open.
const ROLLBACK = query('ROLLBACK')
const DISCARD_ALL = query('DISCARD ALL')

/**
 * @typedef {(chunk: Buffer, ready: number, errors: number) => void} BackendListener
 *   Server bytes as they arrive, with the ReadyForQuery (after the startup one) and ErrorResponse
 *   messages that completed in them.
 */

export class Backend {
  /**
   * Opens a TCP connection to Postgres. The caller writes the client's StartupMessage.
   * @param {{ host: string, port: number }} target
   * @param {string} key the pool key of the client's StartupMessage
   */
  constructor(target, key) {
    this.key = key
    this.socket = net.connect({ host: target.host, port: target.port })
    this.socket.setNoDelay(true)
    this.parser = createBackendParser()
    /** The server's answer to the startup, up to its first ReadyForQuery. @type {Buffer | null} */
    this.startupReply = null
    /** @type {Buffer[]} */
    this.startupChunks = []
    /** Trust authentication only: a backend someone had to prove a password for is never shared. */
    this.shareable = false
    /** The status of the last ReadyForQuery: 'I', 'T' or 'E'. */
    this.status = ''
    this.closed = false
    /** Where server bytes go: the client's session, the reset, or the idle watch. @type {BackendListener} */
    this.listener = () => {}
    /** The pool's bookkeeping when the connection closes. @type {() => void} */
    this.onClose = () => {}
    /** The client's session, told when the connection closes under it. @type {(error: Error | null) => void} */
    this.onLost = () => {}
    /** @type {Error | null} */
    this.failure = null

    this.socket.on('data', (chunk) => this.fromServer(chunk))
    this.socket.on('error', (error) => {
      this.failure = error
    })
    this.socket.on('close', () => {
      this.closed = true
      this.onClose()
      this.onLost(this.failure)
    })
  }

  /** @param {Buffer} chunk */
  fromServer(chunk) {
    let ready = 0
    let errors = 0
    const starting = this.startupReply === null
    for (const message of this.parser.push(chunk)) {
      if (message.type === 'E') errors += 1
      if (!isReadyForQuery(message)) continue
      this.status = readyStatus(chunk, message)
      if (this.startupReply) {
        ready += 1
      } else {
        this.startupReply = Buffer.concat([
          ...this.startupChunks,
          chunk.subarray(0, message.end),
        ])
        this.startupChunks = []
        this.shareable = admittedWithoutCredentials(this.startupReply)
      }
    }
    if (starting && this.startupReply === null) this.startupChunks.push(chunk)
    this.listener(chunk, ready, errors)
  }

  /** Stops sending anything to the session that had this backend. */
  detach() {
    this.listener = () => {}
    this.onLost = () => {}
    this.socket.resume()
  }

  /** @param {Buffer} chunk */
  write(chunk) {
    if (this.closed || this.socket.destroyed) return true
    return this.socket.write(chunk)
  }

  /**
   * Ends the connection: with a Terminate when the server is between messages (`clean`), so it
   * logs no error, else by dropping it (Postgres rolls back whatever was open).
   * @param {boolean} [clean]
   */
  close(clean = false) {
    this.detach()
    if (this.closed || this.socket.destroyed) return
    if (clean && this.socket.writable) {
      this.socket.end(TERMINATE)
      const timer = setTimeout(
        () => this.socket.destroy(),
        UPSTREAM_END_GRACE_MS,
      )
      timer.unref()
      this.socket.once('close', () => clearTimeout(timer))
    } else {
      this.socket.destroy()
    }
  }
}

/**
 * @typedef {object} PoolOptions
 * @property {number} [maxIdle] idle backends kept, all keys together (default 20); a backend
 *   released while that many are idle is closed
 * @property {number} [idleTimeoutMs] an idle backend is closed after this long (default 60 s)
 */

/**
 * @param {PoolOptions} [options]
 */
export function createBackendPool({
  maxIdle = 20,
  idleTimeoutMs = 60_000,
} = {}) {
  /** Idle backends per key, the most recently used last. @type {Map<string, Backend[]>} */
  const idle = new Map()
  /** Every open backend (idle, in use, being reset), to close on shutdown. @type {Set<Backend>} */
  const open = new Set()
  /** @type {Map<Backend, NodeJS.Timeout>} */
  const idleTimers = new Map()
  let idleCount = 0
  let closed = false

  /** @param {Backend} backend */
  function unpark(backend) {
    const list = idle.get(backend.key)
    const index = list?.indexOf(backend) ?? -1
    if (!list || index < 0) return false
    list.splice(index, 1)
    if (list.length === 0) idle.delete(backend.key)
    idleCount -= 1
    clearTimeout(idleTimers.get(backend))
    idleTimers.delete(backend)
    return true
  }

  /** @param {Backend} backend */
  function park(backend) {
    if (closed || backend.closed || idleCount >= maxIdle) {
      backend.close(true)
      return
    }
    // Anything a parked backend says (a FATAL from pg_terminate_backend, a notice) ends it.
    backend.listener = () => {
      unpark(backend)
      backend.close()
    }
    const list = idle.get(backend.key) ?? []
    list.push(backend)
    idle.set(backend.key, list)
    idleCount += 1
    const timer = setTimeout(() => {
      if (unpark(backend)) backend.close(true)
    }, idleTimeoutMs)
    timer.unref()
    idleTimers.set(backend, timer)
  }

  return {
    /**
     * Opens a new backend. It is the caller's until `release`.
     * @param {{ host: string, port: number }} target
     * @param {string} key
     */
    open(target, key) {
      const backend = new Backend(target, key)
      open.add(backend)
      backend.onClose = () => {
        open.delete(backend)
        unpark(backend)
      }
      if (closed) backend.close()
      return backend
    },

    /**
     * An idle backend opened with the same StartupMessage, now the caller's; undefined if none.
     * @param {string} key
     */
    take(key) {
      for (;;) {
        const backend = idle.get(key)?.at(-1)
        if (!backend) return undefined
        unpark(backend)
        if (!backend.closed && !backend.socket.destroyed) return backend
      }
    },

    /**
     * Takes a backend back from a client that has left. `state` says what the client left behind:
     * 'clean' when every request it made was answered (the backend waits for its next message),
     * so the backend can be reset and reused; 'dirty' (a message half sent, a query in flight, an
     * extended-protocol batch without its Sync) closes it. Resolves once the backend is idle in
     * the pool or closing.
     * @param {Backend} backend
     * @param {'clean' | 'dirty'} state
     * @returns {Promise<void>}
     */
    release(backend, state) {
      backend.detach()
      if (
        closed ||
        backend.closed ||
        state === 'dirty' ||
        !backend.startupReply ||
        !backend.shareable ||
        backend.parser.phase === 'opaque' ||
        !backend.parser.atBoundary
      ) {
        backend.close(state === 'clean')
        return Promise.resolve()
      }
      return new Promise((resolve) =>
        reset(backend, (clean) => {
          if (clean) park(backend)
          else backend.close()
          resolve(undefined)
        }),
      )
    },

    /** Idle backends right now. */
    get idle() {
      return idleCount
    },

    /** Closes every backend, idle or not. */
    close() {
      closed = true
      for (const backend of open) backend.close()
      open.clear()
      idle.clear()
      for (const timer of idleTimers.values()) clearTimeout(timer)
      idleTimers.clear()
      idleCount = 0
    },
  }
}

/**
 * Rolls back an open transaction and discards all session state, swallowing the answers. `done`
 * gets true only if the backend then waits idle outside a transaction, having reported no error.
 * @param {Backend} backend
 * @param {(clean: boolean) => void} done
 */
function reset(backend, done) {
  const messages =
    backend.status === 'I' ? [DISCARD_ALL] : [ROLLBACK, DISCARD_ALL]
  let owed = messages.length
  let failed = false
  const finish = (/** @type {boolean} */ clean) => {
    clearTimeout(timer)
    backend.detach()
    done(clean)
  }
  const timer = setTimeout(() => finish(false), RESET_TIMEOUT_MS)
  timer.unref()
  backend.listener = (_chunk, ready, errors) => {
    if (errors > 0) failed = true
    owed -= ready
    if (owed <= 0) finish(!failed && owed === 0 && backend.status === 'I')
  }
  backend.onLost = () => finish(false)
  backend.write(Buffer.concat(messages))
}
