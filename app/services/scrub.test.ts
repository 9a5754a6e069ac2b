import { describe, expect, test } from 'vitest'
import { maskPhone, scrubDeep, scrubError, scrubText } from './scrub'

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
      'Authorization: Basic [redacted]',
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
