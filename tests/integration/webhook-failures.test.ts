import { beforeEach, describe, expect, test } from 'vitest'
import { runNpmScript } from '../support/scripts'
import { webhookSample } from '../support/webhook-samples'
import { useWorkersOnTestDatabase } from '../support/workers'
import { BREAK_APPLYING, FIX_APPLYING } from '../support/failing-webhooks'

// Events that cannot be applied (SPEC §5): stored as failed, answered 200, reported, and retried by
// the scheduled job and by `npm run webhooks:retry`, without blocking the events behind them.
const stack = useWorkersOnTestDatabase()
const RETRY_CRON = '*/10 * * * *'

interface StoredEvent {
  event_id: string
  applied_at: Date | null
  failed_at: Date | null
  failure_reason: string | null
  attempts: number
  next_attempt_at: Date | null
}

async function stored(eventId: string): Promise<StoredEvent> {
  const [row] = await stack.database.query<StoredEvent>(
    `SELECT event_id, applied_at, failed_at, failure_reason, attempts, next_attempt_at
     FROM webhook_events WHERE event_id = $1`,
    [eventId],
  )
  if (!row) throw new Error(`event ${eventId} was not stored`)
  return row
}

beforeEach(async () => {
  await stack.database.query(FIX_APPLYING)
  await stack.database.query('DELETE FROM webhook_events')
})

describe('an event that cannot be applied', () => {
  test('a NUL character Postgres refuses is stored as failed, answered 200 and reported; the next event is applied', async () => {
    const poison = webhookSample('peer.join.success')
    poison.data = { ...poison.data, user_name: 'nul\u0000byte' }
    const response = await stack.workers.deliverWebhook(JSON.stringify(poison))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      received: true,
      duplicate: false,
      applied: false,
    })
    const row = await stored(poison.id)
    expect(row.applied_at).toBeNull()
    expect(row.failed_at).not.toBeNull()
    expect(row.failure_reason).toMatch(/unicode|\\u0000/i)
    expect(row.attempts).toBe(1)
    expect(row.next_attempt_at).not.toBeNull()

    const next = webhookSample('peer.leave.success')
    expect(
      (await stack.workers.deliverWebhook(JSON.stringify(next))).status,
    ).toBe(200)
    expect((await stored(next.id)).applied_at).not.toBeNull()

    // A redelivery of the poison event is a duplicate: still 200, still one row.
    const again = await stack.workers.deliverWebhook(JSON.stringify(poison))
    expect(await again.json()).toMatchObject({ duplicate: true })

    // Reported: an error-level line naming the event.
    expect(await stack.workers.errorLogged(poison.id)).toBe(true)
  })

  test('a failing state change is kept with its reason; the retry job applies it once the cause is fixed, and a second run changes nothing', async () => {
    await stack.database.query(BREAK_APPLYING)
    const event = webhookSample('session.open.success')
    const response = await stack.workers.deliverWebhook(JSON.stringify(event))
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ applied: false })
    const failed = await stored(event.id)
    expect(failed.failure_reason).toBe('sessions table is being migrated')

    // Not due yet (backoff): the job leaves it alone.
    expect((await stack.workers.scheduled(RETRY_CRON)).outcome).toBe('ok')
    expect((await stored(event.id)).attempts).toBe(1)

    // Time passes; the job tries again while the cause is still there: attempts count up.
    await stack.database.query(
      "UPDATE webhook_events SET next_attempt_at = now() - interval '1 second' WHERE event_id = $1",
      [event.id],
    )
    expect((await stack.workers.scheduled(RETRY_CRON)).outcome).toBe('ok')
    const stillFailing = await stored(event.id)
    expect(stillFailing.attempts).toBe(2)
    expect(stillFailing.applied_at).toBeNull()
    expect(stillFailing.next_attempt_at!.getTime()).toBeGreaterThan(Date.now())

    // The cause is fixed; when the event is next due, the job applies it.
    await stack.database.query(FIX_APPLYING)
    await stack.database.query(
      "UPDATE webhook_events SET next_attempt_at = now() - interval '1 second' WHERE event_id = $1",
      [event.id],
    )
    expect((await stack.workers.scheduled(RETRY_CRON)).outcome).toBe('ok')
    const applied = await stored(event.id)
    expect(applied.applied_at).not.toBeNull()
    expect(applied.attempts).toBe(3)
    expect(applied.next_attempt_at).toBeNull()

    expect((await stack.workers.scheduled(RETRY_CRON)).outcome).toBe('ok')
    expect(await stored(event.id)).toEqual(applied)
  })

  test('after the last attempt an event waits for `npm run webhooks:retry`, which applies it once fixed and is safe to re-run', async () => {
    await stack.database.query(BREAK_APPLYING)
    const event = webhookSample('session.open.success')
    await stack.workers.deliverWebhook(JSON.stringify(event))
    // As if the job had already tried it 8 times.
    await stack.database.query(
      'UPDATE webhook_events SET attempts = 8, next_attempt_at = NULL WHERE event_id = $1',
      [event.id],
    )
    expect((await stack.workers.scheduled(RETRY_CRON)).outcome).toBe('ok')
    expect((await stored(event.id)).attempts).toBe(8)

    await stack.database.query(FIX_APPLYING)
    const run = () => runNpmScript(stack.database, 'webhooks:retry')
    const first = await run()
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(
      /1 failed event\(s\) retried, 1 applied, 0 still failing/,
    )
    const applied = await stored(event.id)
    expect(applied.applied_at).not.toBeNull()
    expect(applied.attempts).toBe(9)

    const second = await run()
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/0 failed event\(s\) retried/)
    expect(await stored(event.id)).toEqual(applied)
  })
})

describe('bodies the webhooks Worker refuses', () => {
  test('a nested __proto__ key is 400 and stores nothing', async () => {
    const event = webhookSample('peer.join.success')
    const body = JSON.stringify(event).replace(
      '"data":{',
      '"data":{"nested":{"__proto__":{"polluted":true}},',
    )
    const response = await stack.workers.deliverWebhook(body)
    expect(response.status).toBe(400)
    expect(
      ((await response.json()) as { error: { message: string } }).error.message,
    ).toMatch(/__proto__/)
    expect(
      await stack.database.query('SELECT 1 FROM webhook_events'),
    ).toHaveLength(0)
  })

  test('a 300 KiB body is 413 on both Workers', async () => {
    const padding = 'x'.repeat(300 * 1024)
    const webhook = await stack.workers.deliverWebhook(
      JSON.stringify({ ...webhookSample('peer.join.success'), padding }),
    )
    expect(webhook.status).toBe(413)
    const app = await stack.workers.app('/api/auth/otp/send', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ phone: '+15555550100', padding }),
    })
    expect(app.status).toBe(413)
    expect(((await app.json()) as { error: { code: string } }).error.code).toBe(
      'payload_too_large',
    )
  })

  test('the app Worker refuses a nested __proto__ too', async () => {
    const response = await stack.workers.app('/api/auth/otp/send', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"phone":"+15555550100","x":{"__proto__":{"admin":true}}}',
    })
    expect(response.status).toBe(400)
  })
})

describe('unknown API paths', () => {
  test('answer a JSON 404 in the error shape, whatever the method', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const response = await stack.workers.app('/api/no-such-thing', {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: method === 'GET' ? undefined : '{}',
      })
      expect(response.status, method).toBe(404)
      expect(response.headers.get('Content-Type')).toMatch(/application\/json/)
      expect(
        ((await response.json()) as { error: { code: string } }).error.code,
      ).toBe('not_found')
    }
  })
})
