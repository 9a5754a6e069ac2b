// A WebSocket → TCP relay for `@neondatabase/serverless` in local development and tests. The driver
// (configured with `neonConfig.wsProxy = (host, port) => `${address}/v2?address=${host}:${port}``,
// `useSecureWebSocket = false`, `pipelineTLS = false`, `pipelineConnect = false`) opens
// `ws://ADDRESS/v2?address=host:port` and exchanges raw Postgres wire-protocol bytes as binary
// messages; the relay pipes them to and from a TCP connection to that host and port.
//
// It only reaches loopback targets, so it is never an open proxy, and refuses WebSockets opened by
// non-local web pages (a browser sends their Origin), so a page on the internet cannot talk to the
// developer's trust-auth Postgres through it.
//
// For a real Postgres it pools backends, as Neon's pooled endpoint does (ADR 020, pooled-session.mjs
// and relay-pool.mjs): a client gets an idle backend opened with the same StartupMessage, reset
// since its last client, instead of a new Postgres process and authentication per WebSocket.
//
// `serialize: true` is for embedded PGlite, which has a single backend: one client at a time holds
// the upstream connection of a target, the others wait in a FIFO queue. The slot is released when
// the client's WebSocket closes or when it sends Terminate, and the next client gets a fresh
// upstream connection. Terminate is the one that matters: the neon driver's `end()` (1.2.0) sends
// it and leaves its WebSocket open, waiting for the server to hang up.

import { createServer } from 'node:http'
import net from 'node:net'
import { WebSocketServer } from 'ws'
import {
  awaitsReadyForQuery,
  createBackendParser,
  createFrontendParser,
  isNegotiationRequest,
  isReadyForQuery,
  isTerminate,
} from './pg-framing.mjs'
import { PooledSession, toBuffer } from './pooled-session.mjs'
import { createBackendPool } from './relay-pool.mjs'

const loopback = new net.BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6') // BlockList also matches ::ffff:127.x.x.x and long forms

// A WebSocket close code that says "policy violation" (RFC 6455); 1011 is "unexpected condition".
const POLICY_VIOLATION = 1008
const INTERNAL_ERROR = 1011

// In serialize mode the previous upstream connection may not be gone yet on the server's side when
// the next one arrives, or a direct `pg` client (a migration, a seed) may hold PGlite's only
// connection for a moment: pglite-socket then drops the new one or answers "Too many connections".
// A connection refused before the server has said anything is retried for a while.
const RECONNECT_WINDOW_MS = 2_000
const RECONNECT_DELAY_MS = 20
// Give an upstream that was asked to end this long to close before destroying it.
const UPSTREAM_END_GRACE_MS = 1_000
// Pause the upstream socket while this much is waiting to go out on the WebSocket.
const HIGH_WATER_MARK = 1024 * 1024

/**
 * Is `host` a loopback host (127.0.0.0/8, ::1, localhost)? Names other than `localhost` are
 * refused rather than resolved, so DNS cannot turn an allowed name into a remote address.
 * @param {string} host
 */
export function isLoopbackHost(host) {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (bare === 'localhost') return true
  const family = net.isIP(bare)
  if (family === 4) return loopback.check(bare, 'ipv4')
  if (family === 6) return loopback.check(bare, 'ipv6')
  return false
}

/**
 * Parses the `address` query parameter (`host:port`, `[v6]:port` or `v6:port`).
 * @param {string | null} address
 * @returns {{ ok: true, host: string, port: number, key: string } | { ok: false, reason: string }}
 */
export function parseTargetAddress(address) {
  if (!address) return { ok: false, reason: 'missing address parameter' }
  const match =
    /^\[([^\]]+)\]:(\d{1,5})$/.exec(address) ?? /^(.+):(\d{1,5})$/.exec(address)
  if (!match) return { ok: false, reason: 'address must be host:port' }
  const host = /** @type {string} */ (match[1]).toLowerCase()
  const port = Number(match[2])
  if (port < 1 || port > 65535) return { ok: false, reason: 'invalid port' }
  if (!isLoopbackHost(host)) {
    return { ok: false, reason: 'only loopback addresses are relayed' }
  }
  // Every target is loopback, so the port names the server: `localhost:N`, `127.0.0.1:N` and
  // `[::1]:N` share one queue in serialize mode instead of racing for PGlite's one connection.
  return { ok: true, host, port, key: `loopback:${port}` }
}

/** @param {string | undefined} origin */
function isAllowedOrigin(origin) {
  // Node and workerd clients send no Origin; browsers always do.
  if (origin === undefined) return true
  try {
    return isLoopbackHost(new URL(origin).hostname)
  } catch {
    return false
  }
}

/**
 * What the relay has done since it started, cumulative. Snapshot it before and after a request to
 * count that request's database work (nothing else may use the relay meanwhile).
 * @typedef {object} RelayStats
 * @property {number} upstreamConnections TCP connections opened to Postgres (each one a new
 *   backend process and an authentication)
 * @property {number} clients WebSocket clients relayed (each one a driver connection: a request's
 *   Pool opens one)
 * @property {number} reused clients given an idle pooled backend instead of a new connection
 * @property {number} roundTrips database round trips: ReadyForQuery messages delivered to clients
 *   after their startup, i.e. answers to a simple Query, a Sync (an extended-protocol batch such as
 *   a parameterised query) or a FunctionCall. A client's connection handshake is not one. Counted
 *   where the relay frames the protocol: pooled and serialised clients, not with `pool: false` nor
 *   for a client that opens with an SSLRequest, GSSENCRequest or CancelRequest (relayed unpooled).
 * @property {number} idle pooled backends idle right now
 */

/**
 * @typedef {object} WsRelay
 * @property {number} port
 * @property {string} address host:port, for `DB_WSPROXY` / `neonConfig.wsProxy`
 * @property {() => RelayStats} stats
 * @property {() => Promise<void>} close stops listening and closes every connection, pooled ones
 *   included
 */

/**
 * @param {{
 *   host?: string,
 *   port?: number,
 *   serialize?: boolean,
 *   pool?: import('./relay-pool.mjs').PoolOptions | false,
 * }} [options]
 *   `serialize`: one client at a time per target, each on a new upstream connection (PGlite).
 *   `pool`: otherwise, backends are pooled (ADR 020) unless this is false; its `maxIdle` and
 *   `idleTimeoutMs` bound the idle ones.
 * @returns {Promise<WsRelay>}
 */
export async function startWsRelay({
  host = '127.0.0.1',
  port = 0,
  serialize = false,
  pool: poolOptions = {},
} = {}) {
  /** @type {Set<Session | PooledSession>} */
  const sessions = new Set()
  const pool =
    !serialize && poolOptions !== false ? createBackendPool(poolOptions) : null
  const counters = {
    upstreamConnections: 0,
    clients: 0,
    reused: 0,
    roundTrips: 0,
  }
  /** @type {Map<string, { holder: Session | null, queue: Session[] }>} */
  const lanes = new Map()

  const server = createServer((request, response) => {
    response.writeHead(426, {
      'content-type': 'text/plain',
      upgrade: 'websocket',
    })
    response.end('This is a WebSocket relay for the Postgres driver.\n')
  })
  const wss = new WebSocketServer({ server, perMessageDeflate: false })

  wss.on('connection', (ws, request) => {
    if (!isAllowedOrigin(request.headers.origin)) {
      ws.close(POLICY_VIOLATION, 'origin not allowed')
      return
    }
    const url = new URL(request.url ?? '/', 'http://relay.invalid')
    const target = parseTargetAddress(url.searchParams.get('address'))
    if (!target.ok) {
      ws.close(POLICY_VIOLATION, target.reason)
      return
    }
    counters.clients += 1
    if (pool) {
      const pooled = new PooledSession(ws, target, pool, counters)
      sessions.add(pooled)
      pooled.onEnd = () => sessions.delete(pooled)
      pooled.onNotStartup = (bytes) => {
        sessions.delete(pooled)
        const session = new Session(ws, target, false, counters)
        sessions.add(session)
        session.onEnd = () => sessions.delete(session)
        session.start()
        session.fromClient(bytes)
      }
      return
    }
    const session = new Session(ws, target, serialize, counters)
    sessions.add(session)
    session.onEnd = () => {
      sessions.delete(session)
      if (serialize) release(session)
    }
    session.onTerminate = () => {
      if (serialize) release(session)
    }
    if (serialize) acquire(session)
    else session.start()
  })
  // A failing handshake or socket must never take the process down.
  wss.on('error', () => {})
  server.on('clientError', (_error, socket) => socket.destroy())

  /** @param {Session} session */
  function acquire(session) {
    let lane = lanes.get(session.target.key)
    if (!lane) {
      lane = { holder: null, queue: [] }
      lanes.set(session.target.key, lane)
    }
    if (lane.holder) {
      lane.queue.push(session)
    } else {
      lane.holder = session
      session.start()
    }
  }

  /** @param {Session} session */
  function release(session) {
    const lane = lanes.get(session.target.key)
    if (!lane) return
    if (lane.holder !== session) {
      lane.queue = lane.queue.filter((waiting) => waiting !== session)
      return
    }
    if (session.released) return
    session.released = true
    // The next client starts only once the server has seen this connection go, so PGlite's
    // one-connection socket server is free and any open transaction has been rolled back.
    session.closeUpstream().then(() => {
      lane.holder = null
      for (let next = lane.queue.shift(); next; next = lane.queue.shift()) {
        if (next.ended) continue
        lane.holder = next
        next.start()
        return
      }
      if (lanes.get(session.target.key) === lane)
        lanes.delete(session.target.key)
    })
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(undefined)
    })
  })
  server.on('error', () => {})
  const bound = /** @type {net.AddressInfo} */ (server.address())
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`

  let closing
  return {
    port: bound.port,
    address,
    stats() {
      return { ...counters, idle: pool?.idle ?? 0 }
    },
    close() {
      closing ??= (async () => {
        for (const session of sessions) session.destroy()
        pool?.close()
        lanes.clear()
        // Refused clients too: one that ignores our close frame would hold server.close() up.
        for (const client of wss.clients) client.terminate()
        await new Promise((resolve) => wss.close(() => resolve(undefined)))
        server.closeAllConnections()
        await new Promise((resolve) => server.close(() => resolve(undefined)))
      })()
      return closing
    },
  }
}

/**
 * One WebSocket client and (once it holds a slot) its upstream TCP connection. In serialize mode
 * it follows the protocol: the client's messages to spot Terminate, and the ReadyForQuery answers
 * it is still owed, so that a Terminate sent right behind a query still gets that query's answer
 * before the upstream is closed and the slot handed on.
 */
class Session {
  /**
   * @param {import('ws').WebSocket} ws
   * @param {{ host: string, port: number, key: string }} target
   * @param {boolean} serialize
   * @param {import('./pooled-session.mjs').RelayCounters} counters
   */
  constructor(ws, target, serialize, counters) {
    this.ws = ws
    this.counters = counters
    this.startedUp = false // the upstream has sent its first ReadyForQuery
    this.target = target
    this.serialize = serialize
    /** Client bytes waiting for the upstream connection. @type {Buffer[]} */
    this.pending = []
    /** Bytes sent on an upstream that has not answered yet, to replay on a retry. @type {Buffer[]} */
    this.unanswered = []
    /** @type {net.Socket | null} */
    this.upstream = null
    this.upstreamConnected = false
    /** @type {Promise<void> | null} */
    this.upstreamClosed = null
    this.waitingForDrain = false
    this.answered = false
    /** When the first upstream attempt failed. @type {number | undefined} */
    this.firstAttemptAt = undefined
    this.started = false
    this.terminated = false // the client sent Terminate
    this.finished = false // ...and has had every answer it was owed
    this.released = false
    this.ended = false
    this.frontend = serialize ? createFrontendParser() : null
    /** @type {ReturnType<typeof createBackendParser> | null} */
    this.backend = null
    this.awaiting = 0 // ReadyForQuery messages the server still owes the client
    this.negotiations = 0 // SSL/GSS requests seen, each answered by one byte
    this.onEnd = () => {}
    this.onTerminate = () => {}

    ws.on('message', (data) => this.fromClient(toBuffer(data)))
    ws.on('close', () => this.end())
    ws.on('error', () => this.end())
  }

  start() {
    if (this.ended || this.started) return
    this.started = true
    if (this.terminated && this.awaiting === 0) this.finish()
    else this.connect()
  }

  connect() {
    const socket = net.connect({
      host: this.target.host,
      port: this.target.port,
    })
    this.upstream = socket
    this.counters.upstreamConnections += 1
    this.upstreamConnected = false
    this.answered = false
    if (this.serialize) {
      this.backend = createBackendParser()
      for (let i = 0; i < this.negotiations; i++)
        this.backend.expectNegotiationByte()
    }
    if (this.waitingForDrain) {
      // The previous attempt died while the client was paused for it.
      this.waitingForDrain = false
      this.ws.resume()
    }
    socket.setNoDelay(true)
    let failure = /** @type {Error | null} */ (null)
    this.upstreamClosed = new Promise((resolve) =>
      socket.once('close', () => resolve(undefined)),
    )

    socket.on('connect', () => {
      this.upstreamConnected = true
      const replay = this.unanswered
      this.unanswered = []
      for (const chunk of [...replay, ...this.pending]) this.toUpstream(chunk)
      this.pending = []
    })
    socket.on('data', (chunk) => {
      if (this.upstream !== socket) return
      if (!this.answered) {
        if (this.serialize && !looksLikeFirstResponse(chunk)) {
          // pglite-socket refuses a second connection with plain text, not a Postgres error.
          socket.destroy()
          return
        }
        this.answered = true
        this.unanswered = []
      }
      if (this.backend) {
        for (const message of this.backend.push(chunk)) {
          if (!isReadyForQuery(message)) continue
          if (this.awaiting > 0) this.awaiting -= 1
          if (this.startedUp) this.counters.roundTrips += 1
          this.startedUp = true
        }
      }
      this.toClient(chunk, socket)
      if (this.terminated && this.owesNothing()) this.finish()
    })
    socket.on('error', (error) => {
      failure = error
    })
    socket.on('close', () => {
      if (this.upstream !== socket || this.ended || this.released) return
      const refused = !this.answered && !this.terminated
      this.firstAttemptAt ??= Date.now()
      if (
        this.serialize &&
        refused &&
        Date.now() - this.firstAttemptAt < RECONNECT_WINDOW_MS
      ) {
        this.upstream = null
        setTimeout(() => {
          if (!this.ended && !this.released) this.connect()
        }, RECONNECT_DELAY_MS)
        return
      }
      const reason = failure
        ? `upstream error: ${/** @type {NodeJS.ErrnoException} */ (failure).code ?? failure.message}`
        : 'upstream closed'
      this.closeClient(failure ? INTERNAL_ERROR : 1000, reason)
    })
  }

  /** @param {Buffer} data */
  fromClient(data) {
    if (this.terminated || this.ended) return
    let chunk = data
    if (this.frontend) {
      for (const message of this.frontend.push(data)) {
        if (isNegotiationRequest(message)) {
          this.negotiations += 1
          this.backend?.expectNegotiationByte()
        }
        if (awaitsReadyForQuery(message)) this.awaiting += 1
        if (isTerminate(message)) {
          // Pass the Terminate on (Postgres ends the backend cleanly; PGlite ignores it), drop
          // anything after it, and hand the slot on once the earlier messages are answered.
          chunk = data.subarray(0, message.end)
          this.terminated = true
          break
        }
      }
    }
    if (this.upstream && this.upstreamConnected) this.toUpstream(chunk)
    else this.pending.push(chunk)
    if (this.terminated && this.started && this.owesNothing()) this.finish()
  }

  owesNothing() {
    // Without framing (TLS, or bytes that are not Postgres) there is no telling: do not wait.
    return this.awaiting === 0 || this.backend?.phase === 'opaque'
  }

  /** After Terminate, with every answer delivered: free the slot and say goodbye. */
  finish() {
    if (this.finished) return
    this.finished = true
    this.onTerminate()
    this.closeClient(1000, 'terminated')
  }

  /** @param {Buffer} chunk */
  toUpstream(chunk) {
    const socket = this.upstream
    if (!socket || socket.destroyed) return
    if (!this.answered) this.unanswered.push(chunk)
    if (!socket.write(chunk) && !this.waitingForDrain) {
      this.waitingForDrain = true
      this.ws.pause()
      socket.once('drain', () => {
        this.waitingForDrain = false
        this.ws.resume()
      })
    }
  }

  /**
   * @param {Buffer} chunk
   * @param {net.Socket} socket
   */
  toClient(chunk, socket) {
    if (this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(chunk, { binary: true }, () => {
      if (socket.isPaused() && this.ws.bufferedAmount < HIGH_WATER_MARK)
        socket.resume()
    })
    if (this.ws.bufferedAmount >= HIGH_WATER_MARK) socket.pause()
  }

  /**
   * Ends the upstream connection; resolves once it is closed (or was never opened).
   * @returns {Promise<void>}
   */
  closeUpstream() {
    const socket = this.upstream
    if (!socket || !this.upstreamClosed) return Promise.resolve()
    if (!socket.destroyed && !this.upstreamConnected) {
      // Still connecting: nothing has reached the server, so there is nothing to finish.
      socket.destroy()
    } else if (!socket.destroyed) {
      socket.end()
      const timer = setTimeout(() => socket.destroy(), UPSTREAM_END_GRACE_MS)
      timer.unref()
      socket.once('close', () => clearTimeout(timer))
    }
    return this.upstreamClosed
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
    this.pending = []
    this.unanswered = []
    this.closeUpstream()
    this.closeClient(1000, 'closed')
    this.onEnd()
  }

  /** Drops everything at once (the relay is shutting down). */
  destroy() {
    this.ended = true
    this.upstream?.destroy()
    this.ws.terminate()
  }
}

/**
 * The first byte a Postgres server sends: Authentication (R), ErrorResponse (E),
 * NegotiateProtocolVersion (v), or the answer to an SSL/GSS request (S, N, G).
 * @param {Buffer} chunk
 */
function looksLikeFirstResponse(chunk) {
  return 'REvSNG'.includes(
    String.fromCharCode(/** @type {number} */ (chunk[0])),
  )
}
