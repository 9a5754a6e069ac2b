import { describe, expect, test } from 'vitest'
import {
  CANCEL_REQUEST_CODE,
  GSSENC_REQUEST_CODE,
  PROTOCOL_VERSION_3,
  SSL_REQUEST_CODE,
  admittedWithoutCredentials,
  awaitsReadyForQuery,
  createBackendParser,
  createFrontendParser,
  isNegotiationRequest,
  isReadyForQuery,
  isStartupMessage,
  isTerminate,
  readStartupParameters,
  readyStatus,
} from './pg-framing.mjs'
import {
  queryMessage,
  startupMessage,
  terminateMessage,
  typedMessage,
} from '../../tests/support/pg-wire'

function untyped(code: number, length = 8) {
  const message = Buffer.alloc(length)
  message.writeInt32BE(length, 0)
  message.writeInt32BE(code, 4)
  return message
}

describe('createFrontendParser', () => {
  test('reads the startup message, then typed messages', () => {
    const parser = createFrontendParser()
    const first = startupMessage({ user: 'postgres', database: 'test' })
    expect(parser.push(first)).toEqual([
      {
        type: null,
        code: PROTOCOL_VERSION_3,
        length: first.length,
        end: first.length,
      },
    ])
    expect(parser.phase).toBe('typed')
    const q = queryMessage('select 1')
    expect(parser.push(Buffer.concat([q, terminateMessage()]))).toEqual([
      { type: 'Q', length: q.length - 1, end: q.length },
      { type: 'X', length: 4, end: q.length + 5 },
    ])
  })

  test('finds a Terminate that shares a chunk with the startup message and a query', () => {
    const bytes = Buffer.concat([
      startupMessage(),
      queryMessage('begin'),
      terminateMessage(),
    ])
    const messages = createFrontendParser().push(bytes)
    expect(messages.map((m) => m.type)).toEqual([null, 'Q', 'X'])
    const last = messages.at(-1)!
    expect(isTerminate(last)).toBe(true)
    expect(last.end).toBe(bytes.length)
  })

  test('gives the same messages whatever the chunking, down to one byte at a time', () => {
    const bytes = Buffer.concat([
      startupMessage({
        user: 'postgres',
        database: 'postgres',
        application_name: 'x',
      }),
      typedMessage('P', Buffer.alloc(300, 1)),
      typedMessage('B', Buffer.alloc(70_000, 2)),
      typedMessage('E', Buffer.from([0, 0, 0, 0, 0])),
      typedMessage('S'),
      terminateMessage(),
    ])
    const whole = createFrontendParser().push(bytes)
    expect(whole.map((m) => m.type)).toEqual([null, 'P', 'B', 'E', 'S', 'X'])

    for (const size of [1, 2, 3, 5, 7, 4096]) {
      const parser = createFrontendParser()
      const found: Array<{ type: string | null; length: number; end: number }> =
        []
      for (let offset = 0; offset < bytes.length; offset += size) {
        for (const message of parser.push(
          bytes.subarray(offset, offset + size),
        )) {
          // Report ends against the whole stream so the runs compare.
          found.push({ ...message, end: offset + message.end })
        }
      }
      expect(
        found.map(({ type, length, end }) => ({ type, length, end })),
      ).toEqual(whole.map(({ type, length, end }) => ({ type, length, end })))
    }
  })

  test('does not take the bytes of a message body for a Terminate', () => {
    // A query whose text contains what looks like a Terminate message.
    const sneaky = queryMessage("select 'X\0\0\0\x04'")
    const messages = createFrontendParser().push(
      Buffer.concat([startupMessage(), sneaky]),
    )
    expect(messages.some(isTerminate)).toBe(false)
  })

  test('accepts a startup message after an SSLRequest', () => {
    const parser = createFrontendParser()
    expect(parser.push(untyped(SSL_REQUEST_CODE))).toEqual([
      { type: null, code: SSL_REQUEST_CODE, length: 8, end: 8 },
    ])
    expect(parser.phase).toBe('startup')
    parser.push(startupMessage())
    expect(parser.phase).toBe('typed')
    expect(parser.push(terminateMessage()).map(isTerminate)).toEqual([true])
  })

  test('recognises a CancelRequest as a startup-phase message', () => {
    const messages = createFrontendParser().push(
      untyped(CANCEL_REQUEST_CODE, 16),
    )
    expect(messages).toEqual([
      { type: null, code: CANCEL_REQUEST_CODE, length: 16, end: 16 },
    ])
  })

  test('goes opaque on bytes that are not Postgres (TLS after an accepted SSLRequest)', () => {
    const parser = createFrontendParser()
    parser.push(untyped(SSL_REQUEST_CODE))
    const clientHello = Buffer.from([
      0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
    ])
    expect(parser.push(clientHello)).toEqual([])
    expect(parser.phase).toBe('opaque')
    expect(parser.push(terminateMessage())).toEqual([])
  })

  test('goes opaque on an impossible typed length', () => {
    const parser = createFrontendParser()
    parser.push(startupMessage())
    const broken = Buffer.from([0x51, 0, 0, 0, 2])
    expect(parser.push(broken)).toEqual([])
    expect(parser.phase).toBe('opaque')
  })

  test('a Terminate needs length 4', () => {
    expect(isTerminate({ type: 'X', length: 4, end: 5 })).toBe(true)
    expect(isTerminate({ type: 'X', length: 5, end: 6 })).toBe(false)
    expect(isTerminate({ type: 'Q', length: 4, end: 5 })).toBe(false)
    expect(
      isTerminate({ type: null, code: PROTOCOL_VERSION_3, length: 8, end: 8 }),
    ).toBe(false)
  })
})

describe('createBackendParser', () => {
  const readyForQuery = (status = 'I') => typedMessage('Z', status)

  test('reads server messages, digits included, and spots ReadyForQuery', () => {
    const bytes = Buffer.concat([
      typedMessage('R', Buffer.alloc(4)),
      typedMessage('S', 'server_version\x0017\x00'),
      readyForQuery(),
      typedMessage('1'),
      typedMessage('2'),
      typedMessage('D', Buffer.alloc(20_000)),
      typedMessage('C', 'SELECT 1\x00'),
      readyForQuery('T'),
    ])
    const parser = createBackendParser()
    const messages = [
      ...parser.push(bytes.subarray(0, 9)),
      ...parser.push(bytes.subarray(9, 10_000)),
      ...parser.push(bytes.subarray(10_000)),
    ]
    expect(messages.map((m) => m.type)).toEqual([
      'R',
      'S',
      'Z',
      '1',
      '2',
      'D',
      'C',
      'Z',
    ])
    expect(messages.filter(isReadyForQuery)).toHaveLength(2)
  })

  test('reads the one-byte answer to an SSLRequest, then carries on after N', () => {
    const parser = createBackendParser()
    parser.expectNegotiationByte()
    const messages = parser.push(
      Buffer.concat([Buffer.from('N'), typedMessage('R', Buffer.alloc(4))]),
    )
    expect(messages).toEqual([
      { type: 'N', length: 0, end: 1 },
      { type: 'R', length: 8, end: 10 },
    ])
    expect(parser.phase).toBe('typed')
  })

  test('goes opaque when the server accepts TLS', () => {
    const parser = createBackendParser()
    parser.expectNegotiationByte()
    parser.push(Buffer.from([0x53, 0x16, 0x03, 0x03]))
    expect(parser.phase).toBe('opaque')
  })
})

describe('message kinds', () => {
  test('the messages that the server answers with ReadyForQuery', () => {
    const frontend = createFrontendParser()
    const messages = frontend.push(
      Buffer.concat([
        startupMessage(),
        queryMessage('select 1'),
        typedMessage('P', 'x'),
        typedMessage('B', 'x'),
        typedMessage('D', 'x'),
        typedMessage('E', 'x'),
        typedMessage('H'),
        typedMessage('S'),
        typedMessage('F', 'x'),
      ]),
    )
    expect(messages.map((m) => [m.type, awaitsReadyForQuery(m)])).toEqual([
      [null, true],
      ['Q', true],
      ['P', false],
      ['B', false],
      ['D', false],
      ['E', false],
      ['H', false],
      ['S', true],
      ['F', true],
    ])
  })

  test('SSL and GSS requests are negotiations, not startups', () => {
    for (const code of [SSL_REQUEST_CODE, GSSENC_REQUEST_CODE]) {
      const [message] = createFrontendParser().push(untyped(code))
      expect(isNegotiationRequest(message!)).toBe(true)
      expect(awaitsReadyForQuery(message!)).toBe(false)
    }
    const [cancel] = createFrontendParser().push(
      untyped(CANCEL_REQUEST_CODE, 16),
    )
    expect(isNegotiationRequest(cancel!)).toBe(false)
    expect(awaitsReadyForQuery(cancel!)).toBe(false)
  })
})

describe('what the pooling relay reads', () => {
  const authentication = (code: number, extra = Buffer.alloc(0)) => {
    const body = Buffer.alloc(4)
    body.writeInt32BE(code, 0)
    return typedMessage('R', Buffer.concat([body, extra]))
  }
  const ready = (status = 'I') => typedMessage('Z', status)

  test('the parameters of a startup message', () => {
    const startup = startupMessage({
      user: 'postgres',
      database: 'kulti',
      options: '-c search_path=x',
    })
    const [message] = createFrontendParser().push(startup)
    expect(isStartupMessage(message!)).toBe(true)
    expect(readStartupParameters(startup)).toEqual({
      user: 'postgres',
      database: 'kulti',
      options: '-c search_path=x',
    })
  })

  test('an SSLRequest or CancelRequest is not a startup message', () => {
    for (const code of [SSL_REQUEST_CODE, CANCEL_REQUEST_CODE]) {
      const [message] = createFrontendParser().push(untyped(code, 16))
      expect(isStartupMessage(message!)).toBe(false)
    }
  })

  test('the transaction status of a ReadyForQuery, wherever the chunk splits', () => {
    const bytes = Buffer.concat([typedMessage('C', 'BEGIN\0'), ready('T')])
    const parser = createBackendParser()
    const first = bytes.subarray(0, bytes.length - 3)
    const second = bytes.subarray(bytes.length - 3)
    expect(parser.push(first).filter(isReadyForQuery)).toEqual([])
    const [z] = parser.push(second).filter(isReadyForQuery)
    expect(readyStatus(second, z!)).toBe('T')
  })

  test('trust authentication admits without credentials; a password or SASL exchange does not', () => {
    const parameter = typedMessage('S', 'TimeZone\0UTC\0')
    const keyData = typedMessage('K', Buffer.alloc(8))
    expect(
      admittedWithoutCredentials(
        Buffer.concat([authentication(0), parameter, keyData, ready()]),
      ),
    ).toBe(true)
    expect(
      admittedWithoutCredentials(
        Buffer.concat([authentication(3), authentication(0), ready()]),
      ),
    ).toBe(false)
    expect(
      admittedWithoutCredentials(
        Buffer.concat([
          authentication(10, Buffer.from('SCRAM-SHA-256\0\0')),
          authentication(11, Buffer.from('r=x')),
          authentication(12, Buffer.from('v=y')),
          authentication(0),
          ready(),
        ]),
      ),
    ).toBe(false)
    expect(
      admittedWithoutCredentials(
        Buffer.concat([authentication(0), typedMessage('E', 'x'), ready()]),
      ),
    ).toBe(false)
    expect(admittedWithoutCredentials(authentication(0))).toBe(false)
  })

  test('knows when it is between messages', () => {
    const parser = createFrontendParser()
    parser.push(startupMessage())
    expect(parser.atBoundary).toBe(true)
    const query = queryMessage('select 1')
    parser.push(query.subarray(0, 3))
    expect(parser.atBoundary).toBe(false)
    parser.push(query.subarray(3, 8))
    expect(parser.atBoundary).toBe(false)
    parser.push(query.subarray(8))
    expect(parser.atBoundary).toBe(true)
  })
})
