import { beforeAll, describe, expect, test } from 'vitest'
import { signUp, type TestClient } from '../support/auth'
import { runNpmScript } from '../support/scripts'
import { webhookSample } from '../support/webhook-samples'
import { BASE_URL, useWorkersOnTestDatabase } from '../support/workers'
import { BREAK_APPLYING, FIX_APPLYING } from '../support/failing-webhooks'

// The operations page (/ops) against the built Workers on PostgreSQL: only operators (set by
// `npm run ops:grant`) see it, everyone else gets the plain 404; it shows what the jobs, the
// webhook intake, the limiter, the recordings, the backups and the credits audit left behind; and
// its Retry button applies a failed webhook event through the model's retry path.
const stack = useWorkersOnTestDatabase({
  // A sixth mutation in a minute is refused: the refusal /ops counts.
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    mutation: { limit: 5, periodSeconds: 60 },
  }),
})
const RETRY_CRON = '*/10 * * * *'

let counter = 0
const person = (prefix: string) =>
  signUp(stack.workers, {
    ip: `198.51.100.${10 + ++counter}`,
    profile: {
      username: `${prefix}${Date.now() % 1e7}${counter}`,
      displayName: prefix,
    },
  })

function get(path: string, who?: TestClient) {
  return stack.workers.app(path, {
    headers: who ? { Cookie: who.cookie } : {},
    redirect: 'manual',
  })
}

function post(fields: Record<string, string>, who?: TestClient) {
  return stack.workers.app('/ops', {
    method: 'POST',
    headers: {
      Origin: BASE_URL,
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(who ? { Cookie: who.cookie } : {}),
    },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  })
}

/** What a person sees of a page: its text, without the markup, scripts and per-response values. */
async function visibleText(response: Response): Promise<string> {
  const html = await response.text()
  return html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<link[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}

async function storedEvent(eventId: string) {
  const [row] = await stack.database.query<{
    id: string
    applied_at: Date | null
    attempts: number
    failure_reason: string | null
  }>(
    'SELECT id, applied_at, attempts, failure_reason FROM webhook_events WHERE event_id = $1',
    [eventId],
  )
  if (!row) throw new Error(`event ${eventId} was not stored`)
  return row
}

async function eventually<T>(find: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = await find()
    if (found !== undefined || Date.now() > deadline) return found as T
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

let operator: TestClient & { username: string }
let stranger: TestClient

beforeAll(async () => {
  const username = `op${Date.now() % 1e8}`
  operator = Object.assign(
    await signUp(stack.workers, {
      ip: '198.51.100.200',
      profile: { username, displayName: 'Operator' },
    }),
    { username },
  )
  stranger = await person('stranger')
}, 60_000)

describe('npm run ops:grant', () => {
  test('refuses an unknown username with a clear message and exit code 1', async () => {
    const run = await runNpmScript(stack.database, 'ops:grant', ['nobody_here'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'ops:grant: there is no user named "nobody_here"',
    )
  })

  test('grants, says so, is idempotent, and --revoke takes it back', async () => {
    const someone = await person('grantee')
    const [{ username } = { username: '' }] = await stack.database.query<{
      username: string
    }>('SELECT username FROM users WHERE id = $1', [someone.userId])
    const flag = async () =>
      (
        await stack.database.query<{ operator: boolean }>(
          'SELECT operator FROM users WHERE id = $1',
          [someone.userId],
        )
      )[0]?.operator
    expect(await flag()).toBe(false)

    const granted = await runNpmScript(stack.database, 'ops:grant', [username])
    expect(granted.code).toBe(0)
    expect(granted.stdout).toContain(`@${username}`)
    expect(granted.stdout).toContain('is now an operator')
    expect(await flag()).toBe(true)
    expect((await get('/ops', someone)).status).toBe(200)

    const again = await runNpmScript(stack.database, 'ops:grant', [username])
    expect(again.stdout).toContain('was already an operator')

    const revoked = await runNpmScript(stack.database, 'ops:grant', [
      username,
      '--revoke',
    ])
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain('is no longer an operator')
    expect(await flag()).toBe(false)
    expect((await get('/ops', someone)).status).toBe(404)
  }, 60_000)
})

describe('/ops for everyone else', () => {
  test('anonymous visitors and signed-in non-operators get the same 404 page as an address that does not exist', async () => {
    for (const who of [undefined, stranger]) {
      const missing = await get('/no-such-page', who)
      expect(missing.status).toBe(404)
      const notFound = await visibleText(missing)
      expect(notFound).toContain('Page not found')
      const response = await get('/ops', who)
      expect(response.status).toBe(404)
      expect(await visibleText(response)).toBe(notFound)
    }
  })

  test('a non-operator’s Retry is the same 404 and changes nothing', async () => {
    await stack.database.query(BREAK_APPLYING)
    try {
      const event = webhookSample('session.open.success')
      await stack.workers.deliverWebhook(JSON.stringify(event))
      const before = await storedEvent(event.id)
      for (const who of [undefined, stranger]) {
        const response = await post(
          { intent: 'retry', id: before.id, eventId: event.id },
          who,
        )
        expect(response.status).toBe(404)
      }
      expect(await storedEvent(event.id)).toEqual(before)
    } finally {
      await stack.database.query(FIX_APPLYING)
    }
  })
})

describe('/ops for an operator', () => {
  beforeAll(async () => {
    const run = await runNpmScript(stack.database, 'ops:grant', [
      operator.username,
    ])
    expect(run.code).toBe(0)
  }, 60_000)

  test('shows health, jobs, recordings, refusals, backups and the last credits audit', async () => {
    // A scheduled run, recorded by runJobs.
    expect((await stack.workers.scheduled(RETRY_CRON)).outcome).toBe('ok')
    // Two recordings in the last week, one failed.
    const someone = await person('host')
    await stack.database.query(
      `WITH s AS (
         INSERT INTO live_sessions (room_code, hms_room_id, host_id, title, is_public)
         VALUES ('ops-room-code', 'ops-room', $1, 'Ops', true) RETURNING id)
       INSERT INTO recordings (session_id, status, failure_reason)
       SELECT id, 'failed', 'beam crashed' FROM s
       UNION ALL SELECT id, 'completed', null FROM s`,
      [someone.userId],
    )
    // A refusal: the sixth profile change in a minute (signUp's PUT was the first).
    for (const bio of ['a', 'b', 'c', 'd']) {
      expect((await someone.send('PUT', '/api/me', { bio })).status).toBe(200)
    }
    expect((await someone.send('PUT', '/api/me', { bio: 'e' })).status).toBe(
      429,
    )
    // Written after the response, off its path.
    const counted = await eventually(async () => {
      const [row] = await stack.database.query<{ refusals: number }>(
        "SELECT refusals FROM rate_limit_refusals WHERE policy = 'mutation'",
      )
      return row
    })
    expect(counted?.refusals).toBe(1)
    // A backup in the bucket (as the nightly job leaves one: files, then the manifest).
    const bucket = await stack.workers.mf.getR2Bucket('BACKUPS')
    const backupId = '2025-01-02T03-00-00.000Z-0a1b2c'
    await bucket.put(`${backupId}/public.users.ndjson.gz`, 'x'.repeat(2048))
    await bucket.put(`${backupId}/manifest.json`, '{}')
    // The credits audit, run as an operator would.
    const audit = await runNpmScript(stack.database, 'credits:audit')
    expect(audit.code).toBe(0)

    const response = await get('/ops', operator)
    expect(response.status).toBe(200)
    const text = await visibleText(response)
    expect(text).toContain('Health: OK')
    expect(text).toMatch(/Database OK \d+ ms/)
    expect(text).toMatch(/Storage \(R2\) OK \d+ ms/)
    expect(text).toMatch(/Rate limiter OK \d+ ms/)
    expect(text).toMatch(
      /retry-webhook-events \*\/10 \* \* \* \* .* UTC .* OK: retried=0 applied=0 failed=0/,
    )
    expect(text).toContain('backup 0 3 * * * never recorded')
    expect(text).toContain('Last 7 days: 1 failed of 2 started (50.0%)')
    expect(text).toMatch(/mutation 1 1/)
    expect(text).toContain(`${backupId}`)
    expect(text).toMatch(/2\.\d KiB complete/)
    expect(text).toMatch(
      /Credits audit Last run .* UTC \(\d+ s ago\): OK: every balance and chain matches the ledger: \d+ users, \d+ ledger rows/,
    )
  }, 60_000)

  test('a failed event is listed with its reason; Retry applies it once the cause is fixed', async () => {
    await stack.database.query(BREAK_APPLYING)
    const event = webhookSample('session.open.success')
    try {
      expect(
        (await stack.workers.deliverWebhook(JSON.stringify(event))).status,
      ).toBe(200)
      const failed = await storedEvent(event.id)
      expect(failed.applied_at).toBeNull()

      const page = await visibleText(await get('/ops', operator))
      expect(page).toMatch(/Last event received: .* UTC \(\d+ s ago\)/)
      expect(page).toContain(
        `${event.id} session.open.success sessions table is being migrated 1`,
      )

      // Retried while the cause is still there: it fails again, and says so.
      const again = await post(
        { intent: 'retry', id: failed.id, eventId: event.id },
        operator,
      )
      expect(again.status).toBe(302)
      expect(again.headers.get('Location')).toBe(
        `/ops?retried=${event.id}&applied=0`,
      )
      expect((await storedEvent(event.id)).attempts).toBe(2)
      expect(
        await visibleText(await get(again.headers.get('Location')!, operator)),
      ).toContain(`Event ${event.id} failed again`)
    } finally {
      await stack.database.query(FIX_APPLYING)
    }

    const retried = await post(
      {
        intent: 'retry',
        id: (await storedEvent(event.id)).id,
        eventId: event.id,
      },
      operator,
    )
    expect(retried.status).toBe(302)
    expect(retried.headers.get('Location')).toBe(
      `/ops?retried=${event.id}&applied=1`,
    )
    const applied = await storedEvent(event.id)
    expect(applied.applied_at).not.toBeNull()
    expect(applied.attempts).toBe(3)
    expect(applied.failure_reason).toBeNull()
    const page = await visibleText(
      await get(retried.headers.get('Location')!, operator),
    )
    expect(page).toContain(`Event ${event.id} was applied.`)
    expect(page).not.toContain(`${event.id} session.open.success`)

    // Once applied, a second Retry (a double submit) changes nothing and says why.
    const twice = await post(
      { intent: 'retry', id: applied.id, eventId: event.id },
      operator,
    )
    expect(twice.status).toBe(409)
    expect(await visibleText(twice)).toContain(
      'That event is not waiting for a retry',
    )
    expect(await storedEvent(event.id)).toEqual(applied)
  }, 60_000)
})
