import { describe, expect, test } from 'vitest'
import { jsonRequest } from '../support/auth'
import { useFakeHms } from '../support/fake-hms'
import {
  expectFullSecurityHeaders,
  expectScriptsNonced,
  nonceOf,
} from '../support/security-headers'
import {
  BASE_URL,
  startWorkers,
  UNREACHABLE_DATABASE_URL,
  useWorkersOnTestDatabase,
} from '../support/workers'
import { createWorld } from '../support/world'

// SPEC §7: the full set of security headers on every kind of response both Workers produce (pages,
// JSON, webhooks, 404s, 500s and the refusals in front of them), and a nonce on every script tag.
// Static files are served before the Worker runs: public/_headers gives them the same set
// (workers/security-headers.test.ts) and tests/e2e/csp.test.ts reads them from wrangler dev.
const fake = useFakeHms()
const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  HLS_VIEWER_THRESHOLD: '1000',
}))

const app = (path: string, init?: RequestInit) =>
  stack.workers.app(path, { redirect: 'manual', ...init })

describe('pages', () => {
  test('each page carries the full set, with a fresh nonce on every script tag', async () => {
    const w = await createWorld(stack.workers)
    const pages: Array<[string, string | null]> = [
      ['/', null],
      ['/login', null],
      ['/u/' + w.host.username, null],
      ['/dashboard', w.host.cookie],
      ['/credits', w.host.cookie],
      ['/recordings', w.host.cookie],
      ['/settings', w.host.cookie],
      [`/s/${w.session.roomCode}`, w.participant.cookie],
    ]
    const nonces = new Set<string>()
    for (const [path, cookie] of pages) {
      const response = await app(path, {
        headers: cookie ? { Cookie: cookie } : {},
      })
      expect(response.status, path).toBe(200)
      expectFullSecurityHeaders(
        response.headers,
        { nonce: true, https: false },
        path,
      )
      const nonce = nonceOf(response.headers)!
      nonces.add(nonce)
      expectScriptsNonced(await response.text(), nonce)
    }
    expect(nonces.size).toBe(pages.length)
  })

  test('the landing page, asked for again and again, carries each response its own nonce', async () => {
    // After the first, the anonymous landing page comes from memory (workers/landing-cache.ts):
    // the nonce must still be this response's, in the header and on every script alike.
    const seen = new Set<string>()
    const bodies = new Set<string>()
    for (let i = 0; i < 5; i += 1) {
      const response = await app('/')
      expect(response.status).toBe(200)
      expectFullSecurityHeaders(
        response.headers,
        { nonce: true, https: false },
        `landing #${i + 1}`,
      )
      const nonce = nonceOf(response.headers)!
      const html = await response.text()
      expectScriptsNonced(html, nonce)
      seen.add(nonce)
      bodies.add(html.replaceAll(nonce, 'NONCE'))
    }
    expect(seen.size).toBe(5)
    // Apart from the nonce, every visitor gets the same page.
    expect(bodies.size).toBe(1)
  })

  test('a form that fails (400) and a redirect carry them too', async () => {
    const failed = await app('/login', {
      method: 'POST',
      headers: {
        Origin: BASE_URL,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'intent=send&phone=nope',
    })
    expect(failed.status).toBe(400)
    expectFullSecurityHeaders(
      failed.headers,
      { nonce: true, https: false },
      'failed form',
    )
    expectScriptsNonced(await failed.text(), nonceOf(failed.headers)!)
    const redirected = await app('/dashboard')
    expect(redirected.status).toBe(302)
    expectFullSecurityHeaders(
      redirected.headers,
      { nonce: true, https: false },
      'redirect',
    )
  })

  test('a page that does not exist: 404 with the set', async () => {
    const response = await app('/no/such/page')
    expect(response.status).toBe(404)
    expectFullSecurityHeaders(
      response.headers,
      { nonce: true, https: false },
      '404 page',
    )
    expectScriptsNonced(await response.text(), nonceOf(response.headers)!)
  })
})

describe('over https (production)', () => {
  test('the policy also names the Reporting API group, and Reporting-Endpoints says where it is', async () => {
    const https = await startWorkers(
      {
        DATABASE_URL: stack.database.databaseUrl,
        DB_WSPROXY: stack.database.wsProxy,
      },
      { baseUrl: 'https://kulti.example' },
    )
    try {
      for (const path of ['/', '/login', '/api/health', '/no/such/page']) {
        const response = await https.app(path)
        expectFullSecurityHeaders(
          response.headers,
          { nonce: true, https: true },
          path,
        )
      }
    } finally {
      await https.dispose()
    }
  })
})

describe('the JSON API', () => {
  test('answers, errors and refusals all carry the set', async () => {
    const cases: Array<[string, Promise<Response>, number]> = [
      ['health', app('/api/health'), 200],
      ['401', app('/api/me'), 401],
      ['404', app('/api/no-such-endpoint'), 404],
      [
        '405',
        app('/api/health', { method: 'DELETE', headers: { Origin: BASE_URL } }),
        405,
      ],
      [
        '400',
        app('/api/auth/otp/send', jsonRequest('POST', { phone: 'x' })),
        400,
      ],
      [
        '403 (CSRF)',
        app('/api/auth/otp/send', {
          ...jsonRequest('POST', {}),
          headers: {
            'Content-Type': 'application/json',
            Origin: 'https://evil.example',
          },
        }),
        403,
      ],
      [
        '413',
        app('/api/auth/otp/send', jsonRequest('POST', 'x'.repeat(70_000))),
        413,
      ],
    ]
    for (const [what, pending, status] of cases) {
      const response = await pending
      expect(response.status, what).toBe(status)
      expectFullSecurityHeaders(
        response.headers,
        { nonce: true, https: false },
        what,
      )
    }
  })
})

describe('the webhooks Worker', () => {
  test('a delivery, a refusal and a 404 carry the set (no nonce: no page is ever served)', async () => {
    const refused = await stack.workers.deliverWebhook('{}', {
      'x-kulti-webhook-secret': 'wrong',
    })
    expect(refused.status).toBe(401)
    expectFullSecurityHeaders(
      refused.headers,
      { nonce: false, https: true },
      'webhook 401',
    )
    const invalid = await stack.workers.deliverWebhook('{}')
    expect(invalid.status).toBe(400)
    expectFullSecurityHeaders(
      invalid.headers,
      { nonce: false, https: true },
      'webhook 400',
    )
    const missing = await stack.workers.webhooks('/nothing-here')
    expect(missing.status).toBe(404)
    expectFullSecurityHeaders(
      missing.headers,
      { nonce: false, https: true },
      'webhook 404',
    )
  })
})

describe('500s', () => {
  test('a page and an API route whose database is down, and a misconfigured deployment', async () => {
    const broken = await startWorkers({
      DATABASE_URL: UNREACHABLE_DATABASE_URL,
      DB_WSPROXY: stack.database.wsProxy,
    })
    try {
      const page = await broken.app('/u/someone')
      expect(page.status).toBe(500)
      expectFullSecurityHeaders(
        page.headers,
        { nonce: true, https: false },
        '500 page',
      )
      expectScriptsNonced(await page.text(), nonceOf(page.headers)!)
      const api = await broken.app('/api/credits/leaderboard')
      expect(api.status).toBeGreaterThanOrEqual(500)
      expectFullSecurityHeaders(
        api.headers,
        { nonce: true, https: false },
        'API 5xx',
      )
    } finally {
      await broken.dispose()
    }
    const misconfigured = await startWorkers({ DATABASE_URL: 'not-a-url' })
    try {
      const response = await misconfigured.app('/')
      expect(response.status).toBe(500)
      expectFullSecurityHeaders(
        response.headers,
        { nonce: true, https: false },
        'misconfigured',
      )
      const hook = await misconfigured.deliverWebhook('{}')
      expect(hook.status).toBe(500)
      expectFullSecurityHeaders(
        hook.headers,
        { nonce: false, https: true },
        'webhooks misconfigured',
      )
    } finally {
      await misconfigured.dispose()
    }
  })
})
