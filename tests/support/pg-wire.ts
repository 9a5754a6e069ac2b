/** Postgres frontend messages, byte for byte, for tests that speak the wire protocol directly. */

const PROTOCOL_VERSION_3 = 196608

/** The untyped startup message: length, protocol 3.0, then `key\0value\0` pairs and a final `\0`. */
export function startupMessage(
  params: Record<string, string> = { user: 'postgres' },
): Buffer {
  const body = Buffer.from(
    Object.entries(params)
      .map(([key, value]) => `${key}\0${value}\0`)
      .join('') + '\0',
  )
  const header = Buffer.alloc(8)
  header.writeInt32BE(8 + body.length, 0)
  header.writeInt32BE(PROTOCOL_VERSION_3, 4)
  return Buffer.concat([header, body])
}

/** A typed message: one type byte, a length that counts itself, the body. */
export function typedMessage(type: string, body: Buffer | string = ''): Buffer {
  const payload = Buffer.from(body)
  const header = Buffer.alloc(5)
  header.write(type, 0, 'ascii')
  header.writeInt32BE(4 + payload.length, 1)
  return Buffer.concat([header, payload])
}

export const queryMessage = (sql: string) => typedMessage('Q', `${sql}\0`)
export const terminateMessage = () => typedMessage('X')
