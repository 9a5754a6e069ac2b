import { beforeEach, describe, expect, test } from 'vitest'
import { allWebhookSamples, webhookSample } from '../support/webhook-samples'
import {
  startWorkers,
  TEST_WEBHOOK_SECRET,
  useWorkersOnTestDatabase,
  UNREACHABLE_DATABASE_URL,
} from '../support/workers'

const NEXT_SECRET = 'the-next-webhook-secret-rotating-in'

const stack = useWorkersOnTestDatabase({
  HMS_WEBHOOK_SECRET_NEXT: NEXT_SECRET,
})

beforeEach(async () => {
  await stack.database.query('DELETE FROM webhook_events')
})

const deliver = (
  body: string | ReadableStream,
  headers?: Record<string, string>,
) => stack.workers.deliverWebhook(body, headers)

async function storedEvents() {
  return stack.database.query<{
    event_id: string
    type: string
    applied_at: Date | null
    occurred_at: Date
  }>(
    'SELECT event_id, type, applied_at, occurred_at FROM webhook_events ORDER BY received_at',
  )
}

async function errorOf(response: Response) {
  return (
    (await response.json()) as {
      error: { code: string; message: string; fields?: Record<string, string> }
    }
  ).error
}

describe('authentication', () => {
  test('a delivery without the secret header is 401 and stores nothing', async () => {
    // No header at all (not an empty one): built by hand, since deliver() adds the secret.
    const response = await stack.workers.webhooks('/webhooks/100ms', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookSample('peer.join.success')),
    })
    expect(response.status).toBe(401)
    expect((await errorOf(response)).message).toMatch(/x-kulti-webhook-secret/)
    expect(await storedEvents()).toHaveLength(0)
  })

  test('a wrong secret, even one differing only in the last character, is 401 and stores nothing', async () => {
    for (const wrong of [
      'nope',
      TEST_WEBHOOK_SECRET.slice(0, -1) + 'X',
      'x' + TEST_WEBHOOK_SECRET,
    ]) {
      const response = await deliver(
        JSON.stringify(webhookSample('peer.join.success')),
        {
          'x-kulti-webhook-secret': wrong,
        },
      )
      expect(response.status, wrong).toBe(401)
    }
    expect(await storedEvents()).toHaveLength(0)
  })

  test('during rotation the next secret is accepted too', async () => {
    const response = await deliver(
      JSON.stringify(webhookSample('peer.join.success')),
      {
        'x-kulti-webhook-secret': NEXT_SECRET,
      },
    )
    expect(response.status).toBe(200)
    expect(await storedEvents()).toHaveLength(1)
  })

  test('responses carry the security headers', async () => {
    const response = await deliver('{}', { 'x-kulti-webhook-secret': 'wrong' })
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('content-security-policy')).toContain(
      "frame-ancestors 'none'",
    )
  })
})

describe('validation', () => {
  test('malformed JSON is 400 and stores nothing', async () => {
    const response = await deliver('{"id": "abc", "type":')
    expect(response.status).toBe(400)
    expect((await errorOf(response)).code).toBe('invalid_json')
    expect(await storedEvents()).toHaveLength(0)
  })

  test('JSON that is not a 100ms envelope is 400 naming the bad fields', async () => {
    const response = await deliver(
      JSON.stringify({
        id: 'x',
        type: 'peer.join.success',
        timestamp: 'yesterday',
      }),
    )
    expect(response.status).toBe(400)
    const error = await errorOf(response)
    expect(error.code).toBe('invalid_event')
    expect(Object.keys(error.fields ?? {})).toEqual(
      expect.arrayContaining(['timestamp', 'version', 'data']),
    )
    expect(await storedEvents()).toHaveLength(0)
  })

  test('a body over 256 KiB is 413 and stores nothing', async () => {
    const event = {
      ...webhookSample('peer.join.success'),
      padding: 'x'.repeat(256 * 1024),
    }
    const response = await deliver(JSON.stringify(event))
    expect(response.status).toBe(413)
    expect((await errorOf(response)).message).toMatch(/256 KiB/)
    expect(await storedEvents()).toHaveLength(0)
  })

  test('an oversized body without a Content-Length (streamed) is refused too', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const response = await deliver(stream)
    expect(response.status).toBe(413)
    expect(await storedEvents()).toHaveLength(0)
  })
})

describe('storage', () => {
  test('a delivery is stored once with its event time; a duplicate is 200 and changes nothing', async () => {
    const event = webhookSample('peer.join.success')
    const first = await deliver(JSON.stringify(event))
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({
      received: true,
      duplicate: false,
      applied: true,
    })

    const again = await deliver(JSON.stringify(event))
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ received: true, duplicate: true })

    const rows = await storedEvents()
    expect(rows).toHaveLength(1)
    expect(rows[0]!.event_id).toBe(event.id)
    expect(new Date(rows[0]!.occurred_at).toISOString()).toBe(
      '2021-11-30T12:58:49.000Z',
    )
    expect(rows[0]!.applied_at).not.toBeNull()
  })

  test('ten simultaneous deliveries of one event store it exactly once', async () => {
    const body = JSON.stringify(webhookSample('session.open.success'))
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => deliver(body)),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200))
    const outcomes = await Promise.all(
      responses.map((r) => r.json() as Promise<{ duplicate: boolean }>),
    )
    expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1)
    expect(await storedEvents()).toHaveLength(1)
  })

  test("every event type in 100ms's documentation is accepted and stored", async () => {
    const samples = allWebhookSamples()
    for (const sample of samples) {
      const response = await deliver(JSON.stringify(sample))
      expect(response.status, sample.type).toBe(200)
    }
    expect(await storedEvents()).toHaveLength(samples.length)
  })

  test('an old event replayed by 100ms (is_replay, original time) is accepted', async () => {
    const event = { ...webhookSample('peer.leave.success'), is_replay: true }
    const response = await deliver(JSON.stringify(event))
    expect(response.status).toBe(200)
    expect(await storedEvents()).toHaveLength(1)
  })
})

describe('when the database is unreachable', () => {
  test('the answer is 503 so 100ms retries', async () => {
    const broken = await startWorkers({
      DATABASE_URL: UNREACHABLE_DATABASE_URL,
      DB_WSPROXY: stack.database.wsProxy,
    })
    try {
      const response = await broken.deliverWebhook(
        JSON.stringify(webhookSample('peer.join.success')),
      )
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBeTruthy()
    } finally {
      await broken.dispose()
    }
  })
})

describe('guessing the secret', () => {
  test("is slowed down by the app Worker's rate limiter: the 21st failure in a minute is 429", async () => {
    const body = JSON.stringify(webhookSample('peer.join.success'))
    const headers = {
      'x-kulti-webhook-secret': 'guess',
      'cf-connecting-ip': '203.0.113.7',
    }
    const statuses: number[] = []
    for (let i = 0; i < 20; i++)
      statuses.push((await deliver(body, headers)).status)
    expect(statuses).toEqual(Array(20).fill(401))
    const refused = await deliver(body, headers)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another address and 100ms's own (authenticated) deliveries are unaffected.
    expect(
      (
        await deliver(body, {
          'x-kulti-webhook-secret': 'guess',
          'cf-connecting-ip': '203.0.113.8',
        })
      ).status,
    ).toBe(401)
    expect((await deliver(body)).status).toBe(200)
  })
})
