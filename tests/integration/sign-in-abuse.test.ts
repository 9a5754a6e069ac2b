import { describe, expect, test } from 'vitest'
import {
  jsonRequest,
  latestCode,
  requestCode,
  uniquePhone,
  verify,
} from '../support/auth'
import { useWorkersOnTestDatabase } from '../support/workers'

// Sign-in abuse (SPEC §1): what an attacker can spend, and what they cannot spend for someone else.
// The /48 limit is lowered to 3 here so that two /64s exhaust it quickly; the keying is what counts.
const stack = useWorkersOnTestDatabase({
  SMS_ALLOWED_COUNTRIES: '1,44',
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'otp-send-ip48': { limit: 3, periodSeconds: 3600 },
  }),
})
let counter = 0
const freshIp = () => `203.0.113.${++counter}`

interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> }
}

describe('guessing at a number that has no live code', () => {
  test('costs its owner nothing: after 12 wrong guesses the owner still signs in', async () => {
    const phone = uniquePhone()
    const attacker = freshIp()
    for (let i = 0; i < 12; i++) {
      const guess = await verify(stack.workers, phone, '000000', attacker)
      expect(guess.status, `guess ${i + 1}`).toBe(400)
      expect(((await guess.json()) as ErrorBody).error.code).toBe(
        'code_expired',
      )
    }
    const owner = freshIp()
    expect((await requestCode(stack.workers, phone, owner)).status).toBe(202)
    const signedIn = await verify(
      stack.workers,
      phone,
      await latestCode(stack.workers, phone),
      owner,
    )
    expect(signedIn.status).toBe(200)
  })

  test('one address gets 30 verification attempts per 10 minutes, whatever the numbers', async () => {
    const ip = freshIp()
    for (let i = 0; i < 30; i++)
      expect(
        (await verify(stack.workers, uniquePhone(), '000000', ip)).status,
      ).toBe(400)
    const refused = await verify(stack.workers, uniquePhone(), '000000', ip)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect(refused.headers.get('RateLimit-Policy')).toContain(
      '"otp-verify-ip";q=30;w=600',
    )
  })
})

describe('destinations', () => {
  test('a number outside SMS_ALLOWED_COUNTRIES is a 400 naming the codes that work, and nothing is texted', async () => {
    const phone = '+4915112345678'
    const response = await requestCode(stack.workers, phone, freshIp())
    expect(response.status).toBe(400)
    const body = (await response.json()) as ErrorBody
    expect(body.error.code).toBe('country_not_supported')
    expect(body.error.fields?.phone).toMatch(/\+1, \+44/)
    const sent = await stack.database.query(
      'SELECT 1 FROM sms_outbox WHERE "to" = $1',
      [phone],
    )
    expect(sent).toHaveLength(0)
    // An allowed country goes through.
    expect(
      (await requestCode(stack.workers, '+447700900123', freshIp())).status,
    ).toBe(202)
  })
})

describe('IPv6 senders', () => {
  test('two /64s of one /48 share the /48 budget; another /48 does not', async () => {
    const site = '2001:db8:4848'
    const first64 = `${site}:1::1`
    const second64 = `${site}:2::1`
    expect(
      (await requestCode(stack.workers, uniquePhone(), first64)).status,
    ).toBe(202)
    expect(
      (await requestCode(stack.workers, uniquePhone(), first64)).status,
    ).toBe(202)
    expect(
      (await requestCode(stack.workers, uniquePhone(), second64)).status,
    ).toBe(202)
    // The second /64 has sent only one of its own 10, but the /48 has sent 3 of 3.
    const refused = await requestCode(stack.workers, uniquePhone(), second64)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('RateLimit')).toContain('"otp-send-ip48";r=0')
    expect(
      (await requestCode(stack.workers, uniquePhone(), '2001:db8:4849:1::1'))
        .status,
    ).toBe(202)
  })
})

describe('RateLimit headers', () => {
  test('a limited endpoint names its policies and what is left of each', async () => {
    const response = await stack.workers.app(
      '/api/auth/otp/send',
      jsonRequest(
        'POST',
        { phone: uniquePhone() },
        { 'CF-Connecting-IP': freshIp() },
      ),
    )
    expect(response.status).toBe(202)
    const policy = response.headers.get('RateLimit-Policy') ?? ''
    expect(policy).toContain('"otp-send-ip";q=10;w=3600')
    expect(policy).toContain('"otp-send-phone";q=3;w=600')
    expect(response.headers.get('RateLimit')).toContain('"otp-send-phone";r=2;')
  })
})
