import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { jsonRequest, uniquePhone } from '../support/auth'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { webhookSample } from '../support/webhook-samples'
import { startWorkers, type RunningWorkers } from '../support/workers'

// What happens when the RateLimiter Durable Object cannot be reached: sign-in fails closed (no
// code is sent without a working limit), everything else keeps working.
let database: TestDatabase
let workers: RunningWorkers

beforeAll(async () => {
  database = await createTestDatabase()
  workers = await startWorkers(
    { DATABASE_URL: database.databaseUrl, DB_WSPROXY: database.wsProxy },
    { limiterOutage: true },
  )
})

afterAll(async () => {
  await workers?.dispose()
  await database?.close()
})

describe('with the rate limiter unreachable', () => {
  test('sending a code is refused with 503 and Retry-After, and nothing is texted', async () => {
    const phone = uniquePhone()
    const response = await workers.app(
      '/api/auth/otp/send',
      jsonRequest('POST', { phone }),
    )
    expect(response.status).toBe(503)
    expect(response.headers.get('Retry-After')).toBe('60')
    const body = (await response.json()) as {
      error: { code: string; message: string }
    }
    expect(body.error.code).toBe('rate_limiter_unavailable')
    expect(body.error.message).toMatch(/try again/i)
    const sent = await database.query(
      'SELECT 1 FROM sms_outbox WHERE "to" = $1',
      [phone],
    )
    expect(sent).toHaveLength(0)
    const codes = await database.query(
      'SELECT 1 FROM otp_codes WHERE phone = $1',
      [phone],
    )
    expect(codes).toHaveLength(0)
  })

  test('verifying a code is refused too: guessing is never unlimited', async () => {
    const response = await workers.app(
      '/api/auth/otp/verify',
      jsonRequest('POST', { phone: uniquePhone(), code: '123456' }),
    )
    expect(response.status).toBe(503)
  })

  test('health reports the service degraded (still 200), naming the limiter', async () => {
    const response = await workers.app('/api/health')
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      status: string
      checks: Record<string, { status: string }>
    }
    expect(body.status).toBe('degraded')
    expect(body.checks.rateLimiter!.status).toBe('down')
    expect(body.checks.database!.status).toBe('ok')
  })

  test('webhooks are still accepted: their limiter only slows down secret guessing, so it fails open', async () => {
    const response = await workers.deliverWebhook(
      JSON.stringify(webhookSample('peer.join.success')),
    )
    expect(response.status).toBe(200)
    const wrong = await workers.deliverWebhook('{}', {
      'x-kulti-webhook-secret': 'wrong',
    })
    expect(wrong.status).toBe(401)
  })
})

describe('with a rate limiter that never answers', () => {
  let slow: RunningWorkers
  beforeAll(async () => {
    slow = await startWorkers(
      { DATABASE_URL: database.databaseUrl, DB_WSPROXY: database.wsProxy },
      { limiterOutage: 'hangs' },
    )
  })
  afterAll(async () => {
    await slow?.dispose()
  })

  test('sending and verifying a code are refused with 503 within 2 s, and nothing is texted', async () => {
    const phone = uniquePhone()
    for (const [path, body] of [
      ['/api/auth/otp/send', { phone }],
      ['/api/auth/otp/verify', { phone, code: '123456' }],
    ] as const) {
      const started = Date.now()
      const response = await slow.app(path, jsonRequest('POST', body))
      expect(response.status, path).toBe(503)
      expect(Date.now() - started, path).toBeLessThan(2_000)
      expect(
        ((await response.json()) as { error: { code: string } }).error.code,
      ).toBe('rate_limiter_unavailable')
    }
    const sent = await database.query(
      'SELECT 1 FROM sms_outbox WHERE "to" = $1',
      [phone],
    )
    expect(sent).toHaveLength(0)
  })
})
