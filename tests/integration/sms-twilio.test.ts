import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { jsonRequest, uniquePhone, verify } from '../support/auth'
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio'
import { useWorkersOnTestDatabase } from '../support/workers'

// The Twilio provider, end to end against a local stand-in for Twilio's Messages API.
let twilio: FakeTwilio
let ip = 0

beforeAll(async () => {
  twilio = await startFakeTwilio()
})

afterAll(async () => {
  await twilio?.close()
})

const stack = useWorkersOnTestDatabase(() => ({
  SMS_PROVIDER: 'twilio',
  TWILIO_API_BASE: twilio.url,
  TWILIO_ACCOUNT_SID: twilio.accountSid,
  TWILIO_AUTH_TOKEN: twilio.authToken,
  TWILIO_FROM: '+15005550006',
}))

beforeEach(() => {
  twilio.messages.length = 0
})

const send = (phone: string) =>
  stack.workers.app(
    '/api/auth/otp/send',
    jsonRequest('POST', { phone }, { 'CF-Connecting-IP': `192.0.2.${++ip}` }),
  )

async function liveCodes(phone: string): Promise<number> {
  const rows = await stack.database.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM otp_codes WHERE phone = $1',
    [phone],
  )
  return rows[0]!.n
}

describe('sign-in codes by Twilio', () => {
  test('the code is texted from our number and signs the person in', async () => {
    const phone = uniquePhone()
    expect((await send(phone)).status).toBe(202)
    expect(twilio.messages).toHaveLength(1)
    const [message] = twilio.messages
    expect(message).toMatchObject({
      to: phone,
      from: '+15005550006',
      messagingServiceSid: null,
    })
    const code = /\b(\d{6})\b/.exec(message!.body)?.[1]
    expect(code).toBeTruthy()
    expect((await verify(stack.workers, phone, code!)).status).toBe(200)
  })

  test('a number Twilio refuses is a 400 on the phone field, and no code is left behind', async () => {
    const phone = uniquePhone()
    twilio.failNext(400, 21211, "The 'To' number is not a valid phone number.")
    const response = await send(phone)
    expect(response.status).toBe(400)
    const body = (await response.json()) as {
      error: { code: string; fields: Record<string, string> }
    }
    expect(body.error.code).toBe('phone_unreachable')
    expect(body.error.fields.phone).toMatch(/cannot send a text/)
    expect(await liveCodes(phone)).toBe(0)
  })

  test('Twilio being down or refusing our credentials is a 503, and no code is left behind', async () => {
    for (const [status, code] of [
      [500, 20500],
      [401, 20003],
      [429, 20429],
    ] as const) {
      const phone = uniquePhone()
      twilio.failNext(status, code, 'failure')
      const response = await send(phone)
      expect(response.status, String(code)).toBe(503)
      expect(
        ((await response.json()) as { error: { message: string } }).error
          .message,
      ).toMatch(/try again/)
      expect(await liveCodes(phone)).toBe(0)
    }
  })

  test('a resend that fails keeps nothing half-done: the earlier code is gone too', async () => {
    const phone = uniquePhone()
    expect((await send(phone)).status).toBe(202)
    const firstCode = /\b(\d{6})\b/.exec(twilio.messages[0]!.body)![1]!
    twilio.failNext(500, 20500, 'failure')
    expect((await send(phone)).status).toBe(503)
    // The new code replaced the old one before the text failed; neither works now.
    expect((await verify(stack.workers, phone, firstCode)).status).toBe(400)
  })
})
