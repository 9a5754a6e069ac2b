// Incremental framing of the frontend (client → server) side of the Postgres wire protocol.
// The WebSocket relay uses it to find the Terminate message wherever it falls: the neon driver
// coalesces writes, so one WebSocket message can hold several Postgres messages (or half of one).
// Only headers are kept; bodies are counted and skipped, so a large COPY or Bind is never buffered.

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
 *   Any later message: 1 type byte, then an int32 length that counts itself but not the type byte.
 * @typedef {UntypedMessage | TypedMessage} FrontendMessage
 *   `end` is the offset just past the message in the chunk that completed it.
 */

/**
 * Returns a parser fed with successive chunks of one connection's client → server bytes. `push`
 * returns the messages that complete inside the chunk. When the bytes stop looking like Postgres
 * (e.g. a TLS handshake after an accepted SSLRequest) the parser turns `opaque` and reports nothing.
 */
export function createFrontendParser() {
  /** @type {'startup' | 'typed' | 'opaque'} */
  let phase = 'startup'
  let header = Buffer.alloc(0) // header bytes of the current message gathered so far
  /** @type {{ type: string | null, code: number, length: number } | null} */
  let current = null // the message whose body is being skipped
  let bodyLeft = 0

  /** @param {Uint8Array} chunk */
  function push(chunk) {
    /** @type {FrontendMessage[]} */
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
      const headerSize = phase === 'startup' ? 8 : 5
      const take = Math.min(headerSize - header.length, bytes.length - offset)
      header = Buffer.concat([header, bytes.subarray(offset, offset + take)])
      offset += take
      if (header.length < headerSize) break
      current = phase === 'startup' ? readStartupHeader(header) : readTypedHeader(header)
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
   * @returns {FrontendMessage}
   */
  function finish(message, end) {
    if (message.type === null) {
      // SSL/GSS requests are followed by the real startup message (or by TLS, which goes opaque).
      const negotiation =
        message.code === SSL_REQUEST_CODE || message.code === GSSENC_REQUEST_CODE
      if (!negotiation) phase = 'typed'
      return { type: null, code: message.code, length: message.length, end }
    }
    return { type: message.type, length: message.length, end }
  }

  return {
    push,
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
  const type = header[0]
  const length = header.readInt32BE(1)
  // Frontend message types are ASCII letters; the length counts itself, so it is at least 4.
  const letter = (type >= 0x41 && type <= 0x5a) || (type >= 0x61 && type <= 0x7a)
  if (!letter || length < 4) return null
  return { type: String.fromCharCode(type), code: 0, length }
}

/** @param {FrontendMessage} message */
export function isTerminate(message) {
  return message.type === 'X' && message.length === 4
}
