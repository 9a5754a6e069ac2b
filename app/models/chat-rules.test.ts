import { describe, expect, test } from 'vitest'
import {
  checkMessageText,
  containsBlockedTerm,
  decideSend,
  MAX_FRAME_BYTES,
  ModerationCommand,
  parseClientFrame,
  type ChatMember,
  type SendState,
} from './chat-rules'

// The session chat's rules (SPEC §2a) as the SessionChat Durable Object asks them, with the
// clock passed in: every time below is exact, nothing waits.

const viewer: ChatMember = {
  userId: '00000000-0000-4000-8000-000000000001',
  displayName: 'Viewer',
  role: 'viewer',
  isModerator: false,
}
const presenter: ChatMember = { ...viewer, role: 'presenter' }
const moderator: ChatMember = { ...viewer, isModerator: true }
const host: ChatMember = { ...viewer, role: 'host' }

const T = 1_700_000_000_000
const idle: SendState = {
  now: T,
  recentSends: [],
  slowModeSeconds: 0,
  timedOutUntil: 0,
}
const at = (now: number, state: Partial<SendState> = {}): SendState => ({
  ...idle,
  ...state,
  now,
})

describe('decideSend: timeouts', () => {
  const until = T + 90_000

  test('a timed-out user is refused until the timeout ends, with the wait', () => {
    expect(decideSend(viewer, at(T, { timedOutUntil: until }))).toEqual({
      code: 'timed_out',
      message: 'A moderator timed you out: you can chat again in 2 minutes.',
      retryAfter: 90,
    })
    expect(
      decideSend(viewer, at(until - 1, { timedOutUntil: until })),
    ).toMatchObject({ code: 'timed_out', retryAfter: 1 })
  })

  test('the moment the timeout ends, and after, the user may send', () => {
    expect(decideSend(viewer, at(until, { timedOutUntil: until }))).toBeNull()
    expect(
      decideSend(viewer, at(until + 1, { timedOutUntil: until })),
    ).toBeNull()
  })

  test('a timeout holds for the host and moderators too (the rule does not look at the role)', () => {
    for (const member of [host, moderator])
      expect(decideSend(member, at(T, { timedOutUntil: until }))).toMatchObject(
        { code: 'timed_out' },
      )
  })
})

describe('decideSend: 5 messages in any 10 seconds per user', () => {
  // Five sends, one a second, from T to T+4 s.
  const five = [T, T + 1000, T + 2000, T + 3000, T + 4000]

  test('four recent sends leave room for a fifth', () => {
    expect(
      decideSend(viewer, at(T + 4000, { recentSends: five.slice(0, 4) })),
    ).toBeNull()
  })

  test('a sixth is refused until the oldest of the five leaves the window, with the exact retryAfter', () => {
    expect(decideSend(viewer, at(T + 5000, { recentSends: five }))).toEqual({
      code: 'rate_limited',
      message: 'Slow down: at most 5 messages in 10 seconds.',
      retryAfter: 5,
    })
    // 5.8 s to wait rounds up to 6: a client that waits retryAfter is never refused again.
    expect(
      decideSend(viewer, at(T + 4200, { recentSends: five })),
    ).toMatchObject({ code: 'rate_limited', retryAfter: 6 })
    // 1 ms to wait is still a whole second.
    expect(
      decideSend(viewer, at(T + 9999, { recentSends: five })),
    ).toMatchObject({ code: 'rate_limited', retryAfter: 1 })
    expect(decideSend(viewer, at(T + 10_000, { recentSends: five }))).toBeNull()
  })

  test('the order the sends are given in does not matter', () => {
    const shuffled = [T + 3000, T, T + 4000, T + 1000, T + 2000]
    expect(
      decideSend(viewer, at(T + 5000, { recentSends: shuffled })),
    ).toMatchObject({ code: 'rate_limited', retryAfter: 5 })
  })

  test('the limit applies to the host and moderators as well', () => {
    for (const member of [host, moderator])
      expect(
        decideSend(member, at(T + 5000, { recentSends: five })),
      ).toMatchObject({ code: 'rate_limited', retryAfter: 5 })
  })
})

describe('decideSend: slow mode', () => {
  const slow = (now: number, lastSend: number, seconds = 10) =>
    at(now, { slowModeSeconds: seconds, recentSends: [lastSend] })

  test('refuses a viewer (and a presenter) until the interval has passed', () => {
    for (const member of [viewer, presenter]) {
      expect(decideSend(member, slow(T + 3000, T))).toEqual({
        code: 'slow_mode',
        message: 'Slow mode is on: one message every 10 seconds. Wait 7 s.',
        retryAfter: 7,
      })
      expect(decideSend(member, slow(T + 10_000, T))).toBeNull()
    }
  })

  test('counts from the last send even when it is older than the rate window', () => {
    expect(decideSend(viewer, slow(T + 60_000, T, 120))).toMatchObject({
      code: 'slow_mode',
      retryAfter: 60,
    })
  })

  test('exempts the host and moderators', () => {
    for (const member of [host, moderator])
      expect(decideSend(member, slow(T + 1000, T))).toBeNull()
  })

  test('off (0 seconds) lets anyone send right after their last message', () => {
    expect(decideSend(viewer, slow(T + 1, T, 0))).toBeNull()
  })
})

describe('checkMessageText', () => {
  test('an empty or blank message is refused', () => {
    for (const text of ['', '   ', '\n\n\t', '\u0000\u0007'])
      expect(checkMessageText(text)).toEqual({
        refusal: { code: 'empty_message', message: 'Type a message first.' },
      })
  })

  test('500 characters pass, 501 are refused', () => {
    expect(checkMessageText('a'.repeat(500))).toEqual({ text: 'a'.repeat(500) })
    expect(checkMessageText('a'.repeat(501))).toEqual({
      refusal: {
        code: 'message_too_long',
        message: 'Messages are at most 500 characters; this one has 501.',
      },
    })
  })

  test('an emoji counts as one character, not as its two UTF-16 units', () => {
    const emoji500 = '😀'.repeat(500)
    expect(emoji500.length).toBe(1000)
    expect(checkMessageText(emoji500)).toEqual({ text: emoji500 })
    expect(checkMessageText('😀'.repeat(501))).toMatchObject({
      refusal: { code: 'message_too_long' },
    })
  })

  test('the length is counted after normalization (trimmed, control characters removed)', () => {
    expect(checkMessageText(`  ${'a'.repeat(500)}\u0000\n\n`)).toEqual({
      text: 'a'.repeat(500),
    })
  })

  test('normalizes line breaks, controls, lone surrogates and blank runs', () => {
    expect(
      checkMessageText(
        '  hi\r\nthere\rnow\u0000\u001b\u007f  \n\n\n\n\nend \ud800 ',
      ),
    ).toEqual({ text: 'hi\nthere\nnow  \n\n\nend \ufffd' })
    // Tabs and inner spacing are the author's: code keeps its indentation.
    expect(checkMessageText('```\n\tif (x) {\n  y()\n}\n```')).toEqual({
      text: '```\n\tif (x) {\n  y()\n}\n```',
    })
  })
})

describe('parseClientFrame', () => {
  const refusalCode = (raw: string | ArrayBuffer) => {
    const parsed = parseClientFrame(raw)
    return 'refusal' in parsed ? parsed.refusal.code : null
  }

  test('accepts the three frames of the protocol', () => {
    expect(parseClientFrame('{"type":"send","text":"hi"}')).toEqual({
      frame: { type: 'send', text: 'hi' },
    })
    expect(parseClientFrame('{"type":"resume","after":0}')).toEqual({
      frame: { type: 'resume', after: 0 },
    })
    expect(parseClientFrame('{"type":"question","id":7}')).toEqual({
      frame: { type: 'question', id: 7 },
    })
  })

  test('refuses binary frames', () => {
    expect(
      refusalCode(new TextEncoder().encode('{"type":"send"}').buffer),
    ).toBe('bad_frame')
  })

  test('refuses an oversized frame before reading it', () => {
    const padding = ' '.repeat(MAX_FRAME_BYTES)
    expect(refusalCode(`{"type":"send","text":"hi"}${padding}`)).toBe(
      'frame_too_large',
    )
    // Not even parsed: broken JSON that large is refused for its size.
    expect(refusalCode('{'.repeat(MAX_FRAME_BYTES + 1))).toBe('frame_too_large')
  })

  test('counts bytes, not UTF-16 units', () => {
    // 3,000 three-byte characters: 9,000 bytes in 3,000 units.
    const text = '€'.repeat(3_000)
    expect(refusalCode(JSON.stringify({ type: 'send', text }))).toBe(
      'frame_too_large',
    )
    expect(
      parseClientFrame(JSON.stringify({ type: 'send', text: '€'.repeat(500) })),
    ).toHaveProperty('frame')
  })

  test('refuses broken JSON and JSON that is not a frame', () => {
    for (const raw of [
      '{"type":"send"',
      'not json',
      '',
      'null',
      '[]',
      '"send"',
      '42',
    ])
      expect(refusalCode(raw)).toBe('bad_frame')
  })

  test('refuses unknown types and missing or mistyped fields', () => {
    for (const raw of [
      '{"type":"hide","id":1}',
      '{"type":"__proto__"}',
      '{"text":"no type"}',
      '{"type":"send"}',
      '{"type":"send","text":42}',
      '{"type":"resume"}',
      '{"type":"question","id":"1"}',
    ])
      expect(refusalCode(raw)).toBe('bad_frame')
  })

  test('`__proto__` keys are dropped, never merged into a prototype', () => {
    const parsed = parseClientFrame(
      '{"type":"send","text":"hi","__proto__":{"isModerator":true,"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
    )
    expect(parsed).toEqual({ frame: { type: 'send', text: 'hi' } })
    const frame = 'frame' in parsed ? parsed.frame : null
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype)
    expect(Object.keys(frame ?? {})).toEqual(['type', 'text'])
    expect('polluted' in {}).toBe(false)
    expect('isModerator' in (frame ?? {})).toBe(false)
  })

  test('refuses negative, fractional and unsafe ids', () => {
    for (const raw of [
      '{"type":"question","id":0}',
      '{"type":"question","id":-1}',
      '{"type":"question","id":1.5}',
      '{"type":"question","id":9007199254740992}',
      '{"type":"question","id":1e308}',
      '{"type":"resume","after":-1}',
      '{"type":"resume","after":9007199254740992}',
      '{"type":"resume","after":1e400}',
    ])
      expect(refusalCode(raw)).toBe('bad_frame')
    expect(
      parseClientFrame('{"type":"question","id":9007199254740991}'),
    ).toEqual({ frame: { type: 'question', id: Number.MAX_SAFE_INTEGER } })
  })
})

describe('containsBlockedTerm', () => {
  test('matches anywhere, in any case, either side', () => {
    expect(containsBlockedTerm('Buy CRYPTO now', ['crypto'])).toBe(true)
    expect(containsBlockedTerm('buy crypto now', ['CRYPTO'])).toBe(true)
    expect(containsBlockedTerm('cryptocurrency', ['crypto'])).toBe(true)
    expect(containsBlockedTerm('Ünïcode ÄRGER', ['ärger'])).toBe(true)
  })

  test('does not match other text or an empty list', () => {
    expect(containsBlockedTerm('hello there', ['crypto', 'spam'])).toBe(false)
    expect(containsBlockedTerm('crypto', [])).toBe(false)
  })
})

describe('ModerationCommand', () => {
  const userId = '00000000-0000-4000-8000-000000000002'
  const issue = (input: unknown) => {
    const result = ModerationCommand.safeParse(input)
    return result.success ? null : result.error.issues[0]?.message
  }

  test('a timeout is 1 to 60 whole minutes', () => {
    for (const minutes of [0, 61])
      expect(issue({ action: 'timeout', userId, minutes })).toBe(
        'A timeout is 1 to 60 minutes.',
      )
    expect(issue({ action: 'timeout', userId, minutes: 1.5 })).not.toBeNull()
    for (const minutes of [1, 60])
      expect(issue({ action: 'timeout', userId, minutes })).toBeNull()
  })

  test('slow mode is 5 to 120 seconds, or 0 to turn it off', () => {
    for (const seconds of [3, 4, 121, -5])
      expect(issue({ action: 'slow', seconds })).toBe(
        'Slow mode is 5 to 120 seconds, or 0 to turn it off.',
      )
    for (const seconds of [0, 5, 120])
      expect(issue({ action: 'slow', seconds })).toBeNull()
  })

  test('targets are user ids and positive message ids', () => {
    expect(issue({ action: 'ban', userId: 'not-a-uuid' })).toBe(
      'must be the id of a user',
    )
    expect(issue({ action: 'hide', messageId: 0 })).not.toBeNull()
    expect(issue({ action: 'hide', messageId: 3 })).toBeNull()
    expect(issue({ action: 'unban', userId })).toBeNull()
    expect(issue({ action: 'promote', userId })).not.toBeNull()
  })
})
