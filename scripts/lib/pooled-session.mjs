// One WebSocket client of the relay on a pooled Postgres backend (ADR 020). The client's first
// message must be a StartupMessage: its parameters (user, database, options, application_name...)
// pick an idle backend opened with the same ones, whose cached startup answer the client gets
// instead of a new handshake, or a new backend that authenticates the client as a direct
// connection would. The session follows the client's messages to know, when it leaves, whether
// everything it asked was answered (the backend can be reset and reused) or not (it is closed).
// A Terminate is not passed on: the backend outlives the client.

import {
  awaitsReadyForQuery,
  createFrontendParser,
  isStartupMessage,
  isTerminate,
  readStartupParameters,
} from './pg-framing.mjs'

// Pause the backend while this much is waiting to go out on the WebSocket.
const HIGH_WATER_MARK = 1024 * 1024
const INTERNAL_ERROR = 1011
const TERMINATE_LENGTH = 5

/**
 * @typedef {object} RelayCounters
 * @property {number} upstreamConnections
 * @property {number} clients
 * @property {number} reused
 * @property {number} roundTrips
 */

export class PooledSession {
  /**
   * @param {import('ws').WebSocket} ws
   * @param {{ host: string, port: number, key: string }} target
   * @param {ReturnType<typeof import('./relay-pool.mjs').createBackendPool>} pool
   * @param {RelayCounters} counters
   */
  constructor(ws, target, pool, counters) {
    this.ws = ws
    this.target = target
    this.pool = pool
    this.counters = counters
    this.frontend = createFrontendParser()
    /** Client bytes until the StartupMessage is complete. @type {Buffer[]} */
    this.received = []
    /** @type {import('./relay-pool.mjs').Backend | null} */
    this.backend = null
    this.awaiting = 0 // ReadyForQuery messages the server still owes the client
    this.unsynced = false // extended-protocol messages sent since the last Sync
    this.brokenTerminate = false // a Terminate split across frames reached the backend in part
    this.terminated = false
    this.released = false
    this.ended = false
    this.waitingForDrain = false
    this.onEnd = () => {}
    /**
     * The client opened with something other than a StartupMessage (an SSLRequest, a
     * CancelRequest): the relay serves it without pooling, starting from these bytes.
     * @type {(bytes: Buffer) => void}
     */
    this.onNotStartup = () => {}

    this.listeners = {
      message: (/** @type {import('ws').RawData} */ data) =>
        this.fromClient(toBuffer(data)),
      close: () => this.end(),
      error: () => this.end(),
    }
    ws.on('message', this.listeners.message)
    ws.on('close', this.listeners.close)
    ws.on('error', this.listeners.error)
  }

  /** @param {Buffer} data */
  fromClient(data) {
    if (this.terminated || this.ended) return
    let from = 0 // where the bytes for the backend start in `data`
    let to = data.length
    if (!this.backend) this.received.push(data)
    for (const message of this.frontend.push(data)) {
      if (!this.backend) {
        if (!isStartupMessage(message)) return this.handOver()
        const received = Buffer.concat(this.received)
        this.received = []
        const end = received.length - data.length + message.end
        this.attach(received.subarray(0, end))
        from = message.end
        continue
      }
      if (isTerminate(message)) {
        // Keep it from the backend, which stays open for the next client.
        to = message.end - TERMINATE_LENGTH
        if (to < from) {
          this.brokenTerminate = true
          to = from
        }
        this.terminated = true
        break
      }
      if (awaitsReadyForQuery(message)) {
        this.awaiting += 1
        this.unsynced = false
      } else {
        this.unsynced = true
      }
    }
    if (!this.backend) {
      if (this.frontend.phase === 'opaque') this.handOver()
      return
    }
    if (to > from) this.toBackend(data.subarray(from, to))
    if (this.terminated && this.awaiting === 0) this.finish()
  }

  /**
   * Binds this client to a backend for its StartupMessage: an idle one (the client gets its
   * cached startup answer) or a new one (the StartupMessage goes to the server).
   * @param {Buffer} startup
   */
  attach(startup) {
    const parameters = Object.entries(readStartupParameters(startup)).sort(
      ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0),
    )
    const key = `${this.target.key} ${JSON.stringify(parameters)}`
    const idle = this.pool.take(key)
    const backend = idle ?? this.pool.open(this.target, key)
    this.backend = backend
    backend.listener = (chunk, ready) => {
      this.counters.roundTrips += ready
      this.awaiting = Math.max(0, this.awaiting - ready)
      this.toClient(chunk, backend)
      if (this.terminated && this.awaiting === 0) this.finish()
    }
    backend.onLost = (failure) => {
      const reason = failure
        ? `upstream error: ${/** @type {NodeJS.ErrnoException} */ (failure).code ?? failure.message}`
        : 'upstream closed'
      this.closeClient(failure ? INTERNAL_ERROR : 1000, reason)
    }
    if (idle) {
      this.counters.reused += 1
      this.toClient(/** @type {Buffer} */ (idle.startupReply), idle)
    } else {
      this.counters.upstreamConnections += 1
      backend.write(startup)
    }
  }

  /** Serve the client without pooling: stop listening and give its bytes to the relay. */
  handOver() {
    this.ws.off('message', this.listeners.message)
    this.ws.off('close', this.listeners.close)
    this.ws.off('error', this.listeners.error)
    const bytes = Buffer.concat(this.received)
    this.received = []
    this.ended = true
    this.onNotStartup(bytes)
  }

  /** @param {Buffer} chunk */
  toBackend(chunk) {
    const backend = /** @type {import('./relay-pool.mjs').Backend} */ (
      this.backend
    )
    if (!backend.write(chunk) && !this.waitingForDrain) {
      this.waitingForDrain = true
      this.ws.pause()
      backend.socket.once('drain', () => {
        this.waitingForDrain = false
        this.ws.resume()
      })
    }
  }

  /**
   * @param {Buffer} chunk
   * @param {import('./relay-pool.mjs').Backend} backend
   */
  toClient(chunk, backend) {
    if (this.ws.readyState !== this.ws.OPEN) return
    const { socket } = backend
    this.ws.send(chunk, { binary: true }, () => {
      if (
        this.backend === backend &&
        !this.released &&
        socket.isPaused() &&
        this.ws.bufferedAmount < HIGH_WATER_MARK
      )
        socket.resume()
    })
    if (this.ws.bufferedAmount >= HIGH_WATER_MARK) socket.pause()
  }

  /**
   * After Terminate, with every answer delivered: give the backend back, then say goodbye. The
   * driver's `end()` resolves on that goodbye, so a client that connects after it finds the
   * backend already reset and idle.
   */
  finish() {
    if (this.released) return
    this.release().then(() => this.closeClient(1000, 'terminated'))
  }

  /**
   * Gives the backend back to the pool, which resets and keeps it only if the client left it
   * waiting for its next message: nothing owed, no message half sent, no batch without its Sync.
   */
  release() {
    if (this.released || !this.backend) return Promise.resolve()
    this.released = true
    const clean =
      this.awaiting === 0 &&
      !this.unsynced &&
      !this.brokenTerminate &&
      this.frontend.atBoundary
    return this.pool.release(this.backend, clean ? 'clean' : 'dirty')
  }

  /**
   * @param {number} code
   * @param {string} reason
   */
  closeClient(code, reason) {
    const { ws } = this
    if (ws.readyState === ws.CONNECTING || ws.readyState === ws.OPEN) {
      // A close reason may not exceed 123 bytes; ws throws on a longer one.
      ws.close(code, reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 123))
    }
  }

  /** The client is gone (its WebSocket closed or failed). */
  end() {
    if (this.ended) return
    this.ended = true
    void this.release()
    this.closeClient(1000, 'closed')
    this.onEnd()
  }

  /** Drops everything at once (the relay is shutting down). */
  destroy() {
    this.ended = true
    this.released = true
    this.backend?.close()
    this.ws.terminate()
  }
}

/** @param {import('ws').RawData} data */
export function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}
