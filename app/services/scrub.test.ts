import { describe, expect, test } from 'vitest'
import {
  maskPhone,
  scrubDeep,
  scrubError,
  scrubEvent,
  scrubText,
  scrubUrl,
} from './scrub'

describe('scrubText', () => {
  test('masks phone numbers, keeping enough to tell them apart', () => {
    expect(scrubText('texting +442079460958 failed')).toBe(
      'texting +4420******58 failed',
    )
    expect(maskPhone('+15551234567')).toBe('+1555*****67')
  })

  test('drops bound query parameters and credentials', () => {
    const text =
      'Failed query: insert into "sms_outbox" ("to", "body") values ($1, $2)\nparams: +15550001111,Your Kulti code is 123456'
    const scrubbed = scrubText(text)
    expect(scrubbed).not.toContain('123456')
    expect(scrubbed).not.toContain('0001111')
    expect(scrubbed).toContain('insert into "sms_outbox"')
    expect(scrubText('postgresql://kulti:hunter2@db.example/kulti')).toBe(
      'postgresql://[redacted]@db.example/kulti',
    )
    expect(scrubText('Authorization: Basic QUM6dG9rZW4=')).toBe(
      'Authorization: [redacted]',
    )
    expect(scrubText('sent with Bearer abc.def-ghi')).toBe(
      'sent with Bearer [redacted]',
    )
  })
})

describe('scrubError', () => {
  test("keeps the name, the frames and the cause's reason, and nothing personal", () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:5432')
    const error = new Error(
      'Failed query: select * from otp_codes where phone = $1\nparams: +15550001111',
      { cause },
    )
    error.name = 'DrizzleQueryError'
    const safe = scrubError(error)
    expect(safe.name).toBe('DrizzleQueryError')
    expect(safe.message).toContain('select * from otp_codes')
    expect(safe.message).toContain('ECONNREFUSED')
    expect(safe.message).not.toContain('0001111')
    expect(safe.stack).not.toContain('0001111')
    expect(safe.stack).toMatch(/\n\s+at /)
  })
})

describe('scrubDeep', () => {
  test('scrubs every string of a nested event and keeps its shape', () => {
    const event = {
      message: 'call +15550001111',
      extra: { n: 1, list: ['+15550002222', true] },
    }
    expect(scrubDeep(event)).toEqual({
      message: 'call +1555*****11',
      extra: { n: 1, list: ['+1555*****22', true] },
    })
  })
})

// Each control of SPEC §7's list, one by one: removing any of them fails its test.
describe('scrubText, control by control', () => {
  test("a failed query's bound parameters, whatever they are", () => {
    const scrubbed = scrubText(
      'Failed query: update users set display_name = $1 where id = $2\nparams: Ada Lovelace,3',
    )
    expect(scrubbed).not.toContain('Ada Lovelace')
    expect(scrubbed).toContain('update users set display_name')
  })

  test('sign-in codes next to the word code', () => {
    const scrubbed = scrubText(
      'Your Kulti code is 482913. / {"code":"482913"} / otp=482913',
    )
    expect(scrubbed).not.toContain('482913')
    expect(scrubbed).toContain('code is [code]')
  })

  test('100ms tokens (JWTs)', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiJ9.eyJhY2Nlc3Nfa2V5IjoiayJ9.c2lnbmF0dXJlLXBhcnQ'
    expect(scrubText(`joined with ${jwt} ok`)).toBe('joined with [token] ok')
  })

  test('session ids and other long opaque tokens, but not UUIDs', () => {
    const sessionId = 'q3Xv9_Rk2m-LpW8yZt4Nc7Hb1Df6Gs0Je5Ua2Oi3Ke8'
    const uuid = '3f2b8c1e-7d4a-4b9e-9c2f-1a2b3c4d5e6f'
    expect(scrubText(`session ${sessionId} of user ${uuid}`)).toBe(
      `session [token] of user ${uuid}`,
    )
  })

  test('cookies', () => {
    expect(scrubText('kulti_session=abc.def; theme=dark')).not.toContain(
      'abc.def',
    )
    expect(scrubText('__Host-kulti_session=s%3Aabc')).toBe(
      '__Host-kulti_session=[redacted]',
    )
    expect(scrubText('Cookie: theme=dark; other=1')).toBe('Cookie: [redacted]')
  })

  test('authorization and secret headers', () => {
    expect(scrubText('x-kulti-webhook-secret: hunter2-hunter2')).toBe(
      'x-kulti-webhook-secret: [redacted]',
    )
    expect(scrubText('{"authorization":"Token 1234"}')).toBe(
      '{"authorization":"[redacted]"}',
    )
  })

  test('URLs: no query, no fragment, no credentials, no ids or room codes in the path', () => {
    expect(
      scrubUrl(
        'https://kulti.dev/s/VIBE-2K4F?phone=%2B15550001111&code=123456#x',
      ),
    ).toBe('https://kulti.dev/s/:roomCode')
    expect(
      scrubUrl(
        'https://kulti.dev/api/sessions/3f2b8c1e-7d4a-4b9e-9c2f-1a2b3c4d5e6f/token',
      ),
    ).toBe('https://kulti.dev/api/sessions/:id/token')
    expect(scrubText('fetch https://u:p@h.example/a?token=x failed')).toBe(
      'fetch https://h.example/a failed',
    )
  })

  test('room codes in text', () => {
    expect(scrubText('room VIBE-2K4F is full')).toBe('room [room code] is full')
  })
})

describe('scrubEvent', () => {
  test('scrubs messages, exceptions, breadcrumbs, extra and the request; keeps only the user id', () => {
    const phone = '+15550003333'
    const event = {
      event_id: 'a'.repeat(32),
      message: `texting ${phone}`,
      exception: { values: [{ type: 'Error', value: `for ${phone}` }] },
      breadcrumbs: [{ message: 'sent', data: { phone, to: phone } }],
      extra: { token: 'secret-value', nested: { note: `call ${phone}` } },
      user: { id: 'user-1', username: 'ada', ip_address: '203.0.113.9' },
      request: {
        url: 'https://kulti.dev/s/VIBE-2K4F?x=1',
        cookies: { kulti_session: 'abc' },
        data: { phone },
        query_string: 'phone=1',
        headers: { 'user-agent': 'test' },
      },
    }
    const scrubbed = scrubEvent(event)
    expect(JSON.stringify(scrubbed)).not.toContain('0003333')
    expect(JSON.stringify(scrubbed)).not.toContain('secret-value')
    expect(JSON.stringify(scrubbed)).not.toContain('VIBE-2K4F')
    expect(scrubbed.user).toEqual({ id: 'user-1' })
    expect(scrubbed.request).toEqual({
      url: 'https://kulti.dev/s/:roomCode',
      headers: { 'user-agent': 'test' },
    })
    expect(scrubbed.event_id).toBe(event.event_id)
  })
})
