import { describe, expect, test } from 'vitest'
import { requestCode, uniquePhone } from '../support/auth'
import { useWorkersOnTestDatabase } from '../support/workers'

// The product-wide SMS budget (SPEC §1), set to 3 texts an hour for this file.
const stack = useWorkersOnTestDatabase({ SMS_HOURLY_BUDGET: '3' })

describe('the hourly SMS budget', () => {
  test('once spent, sending answers 503 with a plain message, texts nothing and alerts operators', async () => {
    let ip = 0
    for (let i = 0; i < 3; i++) {
      const response = await requestCode(
        stack.workers,
        uniquePhone(),
        `192.0.2.${++ip}`,
      )
      expect(response.status).toBe(202)
    }
    const phone = uniquePhone()
    const refused = await requestCode(stack.workers, phone, `192.0.2.${++ip}`)
    expect(refused.status).toBe(503)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0)
    const body = (await refused.json()) as {
      error: { code: string; message: string }
    }
    expect(body.error.code).toBe('sms_budget_spent')
    expect(body.error.message).toMatch(/cannot send sign-in texts right now/)
    const sent = await stack.database.query(
      'SELECT 1 FROM sms_outbox WHERE "to" = $1',
      [phone],
    )
    expect(sent).toHaveLength(0)
    const codes = await stack.database.query(
      'SELECT 1 FROM otp_codes WHERE phone = $1',
      [phone],
    )
    expect(codes).toHaveLength(0)
    // The operators' signal: an error-level line naming the spent budget.
    expect(await stack.workers.errorLogged('SMS_HOURLY_BUDGET')).toBe(true)
  })
})
