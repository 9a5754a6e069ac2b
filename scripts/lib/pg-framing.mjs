// Incremental framing of the Postgres wire protocol, both directions. The WebSocket relay uses it
// to find a client's Terminate wherever it falls (the neon driver coalesces writes, so one
// WebSocket message can hold several Postgres messages, or half of one) and to know when the
// server has answered everything the client asked before it. Only headers are kept; bodies are
// counted and skipped, so a large COPY or Bind is never buffered.

export const PROTOCOL_VERSION_3 = 196608 // 3 << 16
export const CANCEL_REQUEST_CODE = 80877102
export const SSL_REQUEST_CODE = 80877103
export const GSSENC_REQUEST_CODE = 80877104

// PostgreSQL refuses startup packets above 10000 bytes (MAX_STARTUP_PACKET_LENGTH).
const MAX_STARTUP_LENGTH = 10_000

/**
 * @typedef {{ type: null, code: number, length: number, end: number }} UntypedMessage
 *   A startup-phase message (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest): no type byte.
 * @typedef {{ type: string, length: number, end: number }} TypedMessage
 *   A message with a type byte and an int32 length that counts itself but not the type byte. The
 *   server's one-byte answer to an SSL/GSS request is reported as a TypedMessage of length 0.
 * @typedef {UntypedMessage | TypedMessage} PgMessage
 *   `end` is the offset just past the message in the chunk that completed it.
 * @typedef {'startup' | 'typed' | 'opaque'} Phase
 */

/**
 * A parser for one connection's client → server bytes. `push` returns the messages that complete
 * inside the chunk. When the bytes stop looking like Postgres (e.g. TLS after an accepted
 * SSLRequest) the parser turns `opaque` and reports nothing more.
 */
export function createFrontendParser() {
  return createParser('startup')
}

/**
 * A parser for one connection's server → client bytes. Call `expectNegotiationByte()` for each
 * SSLRequest/GSSENCRequest the client sent: the answer is a single byte with no length.
 */
export function createBackendParser() {
  return createParser('typed')
}

/** @param {Phase} initialPhase */
function createParser(initialPhase) {
  /** @type {Phase} */
  let phase = initialPhase
  let negotiationBytes = 0 // one-byte SSL/GSS answers still to come (backend)
  let header = Buffer.alloc(0) // header bytes of the current message gathered so far
  /** @type {{ type: string | null, code: number, length: number } | null} */
  let current = null // the message whose body is being skipped
  let bodyLeft = 0

  /** @param {Uint8Array} chunk */
  function push(chunk) {
    /** @type {PgMessage[]} */
    const messages = []
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
    let offset = 0
    while (offset < bytes.length && phase !== 'opaque') {
      if (current) {
        const take = Math.min(bodyLeft, bytes.length - offset)
        offset += take
        bodyLeft -= take
        if (bodyLeft === 0) {
          messages.push(finish(current, offset))
          current = null
        }
        continue
      }
      if (negotiationBytes > 0) {
        negotiationBytes -= 1
        const answer = String.fromCharCode(
          /** @type {number} */ (bytes[offset]),
        )
        offset += 1
        messages.push({ type: answer, length: 0, end: offset })
        // 'S' or 'G': TLS or GSSAPI encryption follows, which is not ours to read.
        if (answer !== 'N') phase = 'opaque'
        continue
      }
      const headerSize = phase === 'startup' ? 8 : 5
      const take = Math.min(headerSize - header.length, bytes.length - offset)
      header = Buffer.concat([header, bytes.subarray(offset, offset + take)])
      offset += take
      if (header.length < headerSize) break
      current =
        phase === 'startup'
          ? readStartupHeader(header)
          : readTypedHeader(header)
      header = Buffer.alloc(0)
      if (!current) {
        phase = 'opaque'
        break
      }
      bodyLeft = current.length - (headerSize - (current.type === null ? 0 : 1))
      if (bodyLeft === 0) {
        messages.push(finish(current, offset))
        current = null
      }
    }
    return messages
  }

  /**
   * @param {{ type: string | null, code: number, length: number }} message
   * @param {number} end
   * @returns {PgMessage}
   */
  function finish(message, end) {
    if (message.type === null) {
      // SSL/GSS requests are followed by the real startup message (or by TLS, which goes opaque).
      if (!isNegotiationRequest(message)) phase = 'typed'
      return { type: null, code: message.code, length: message.length, end }
    }
    return { type: message.type, length: message.length, end }
  }

  return {
    push,
    /** Is the parser between messages (no header or body half read)? */
    get atBoundary() {
      return current === null && header.length === 0 && negotiationBytes === 0
    },
    expectNegotiationByte() {
      negotiationBytes += 1
    },
    /** @returns {Phase} */
    get phase() {
      return phase
    },
  }
}

/** @param {Buffer} header */
function readStartupHeader(header) {
  const length = header.readInt32BE(0)
  const code = header.readInt32BE(4)
  if (length < 8 || length > MAX_STARTUP_LENGTH) return null
  const known =
    code === SSL_REQUEST_CODE ||
    code === GSSENC_REQUEST_CODE ||
    code === CANCEL_REQUEST_CODE ||
    code >> 16 === 3
  if (!known) return null
  return { type: null, code, length }
}

/** @param {Buffer} header */
function readTypedHeader(header) {
  const type = /** @type {number} */ (header[0])
  const length = header.readInt32BE(1)
  // Message types are ASCII letters (and digits, for the server's ParseComplete etc.); the
  // length counts itself, so it is at least 4.
  const alphanumeric =
    (type >= 0x30 && type <= 0x39) ||
    (type >= 0x41 && type <= 0x5a) ||
    (type >= 0x61 && type <= 0x7a)
  if (!alphanumeric || length < 4) return null
  return { type: String.fromCharCode(type), code: 0, length }
}

/** @param {PgMessage} message */
export function isTerminate(message) {
  return message.type === 'X' && message.length === 4
}

/**
 * An SSLRequest or GSSENCRequest, which the server answers with a single byte.
 * @param {{ type: string | null, code?: number }} message
 */
export function isNegotiationRequest(message) {
  return (
    message.type === null &&
    (message.code === SSL_REQUEST_CODE || message.code === GSSENC_REQUEST_CODE)
  )
}

/**
 * Does this client message make the server end its answer with ReadyForQuery? The startup message
 * (after authentication), a simple Query, a Sync and a FunctionCall do; nothing else does.
 * @param {PgMessage} message
 */
export function awaitsReadyForQuery(message) {
  if (message.type === null)
    return 'code' in message && message.code >> 16 === 3
  return message.type === 'Q' || message.type === 'S' || message.type === 'F'
}

/** @param {PgMessage} message */
export function isReadyForQuery(message) {
  return message.type === 'Z' && message.length === 5
}

/** @param {PgMessage} message */
export function isStartupMessage(message) {
  return message.type === null && message.code >> 16 === 3
}

/**
 * The status in a ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed transaction.
 * `chunk` is the one whose bytes completed `message`; the status is its last byte, so it is in it.
 * @param {Buffer} chunk
 * @param {PgMessage} message
 */
export function readyStatus(chunk, message) {
  return String.fromCharCode(/** @type {number} */ (chunk[message.end - 1]))
}

/**
 * The parameters of a complete StartupMessage (user, database, options, application_name...).
 * @param {Buffer} startup
 * @returns {Record<string, string>}
 */
export function readStartupParameters(startup) {
  const fields = startup
    .subarray(8, startup.readInt32BE(0))
    .toString('utf8')
    .split('\0')
  /** @type {Record<string, string>} */
  const parameters = {}
  for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) {
    parameters[/** @type {string} */ (fields[i])] = /** @type {string} */ (
      fields[i + 1]
    )
  }
  return parameters
}

/**
 * The complete typed messages in `bytes` (a whole, buffered stretch of a server's answer).
 * @param {Buffer} bytes
 * @returns {Array<{ type: string, body: Buffer }>}
 */
export function splitMessages(bytes) {
  const messages = []
  for (let offset = 0; offset + 5 <= bytes.length; ) {
    const end = offset + 1 + bytes.readInt32BE(offset + 1)
    if (end > bytes.length) break
    messages.push({
      type: String.fromCharCode(/** @type {number} */ (bytes[offset])),
      body: bytes.subarray(offset + 5, end),
    })
    offset = end
  }
  return messages
}

/**
 * Did the server let the client in without asking for anything (trust authentication)? True when
 * `reply`, everything up to the first ReadyForQuery, holds AuthenticationOk and no other
 * authentication request and no error.
 * @param {Buffer} reply
 */
export function admittedWithoutCredentials(reply) {
  const messages = splitMessages(reply)
  return (
    messages.some((m) => m.type === 'Z') &&
    messages.every(
      (m) =>
        m.type !== 'E' &&
        (m.type !== 'R' ||
          (m.body.length === 4 && m.body.readInt32BE(0) === 0)),
    )
  )
}
