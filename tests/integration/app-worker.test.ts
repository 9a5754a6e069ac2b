import { describe, expect, test } from 'vitest'
import {
  startWorkers,
  useWorkersOnTestDatabase,
  UNREACHABLE_DATABASE_URL,
} from '../support/workers'

const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin',
  'x-xss-protection': '0',
}

function expectSecurityHeaders(response: Response) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers.get(name), name).toBe(value)
  }
  expect(response.headers.get('permissions-policy')).toContain('camera=(self)')
  expect(response.headers.get('permissions-policy')).toContain(
    'display-capture=(self)',
  )
  const csp = response.headers.get('content-security-policy') ?? ''
  expect(csp).toContain("default-src 'self'")
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).toContain("object-src 'none'")
  expect(csp).toContain("base-uri 'self'")
}

const stack = useWorkersOnTestDatabase()

describe('the landing page', () => {
  test('renders, with every security header and a CSP nonce that matches each script tag', async () => {
    const response = await stack.workers.app('/')
    expect(response.status).toBe(200)
    expectSecurityHeaders(response)
    const csp = response.headers.get('content-security-policy')!
    const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1]
    expect(nonce).toBeTruthy()

    const html = await response.text()
    expect(html).toContain('Build software in the open, live.')
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])
    expect(scripts.length).toBeGreaterThan(1)
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`)
  })

  test('every response gets its own nonce', async () => {
    const nonces = await Promise.all(
      [1, 2, 3].map(async () =>
        (await stack.workers.app('/')).headers.get('content-security-policy'),
      ),
    )
    expect(new Set(nonces).size).toBe(3)
  })
})

describe('the health endpoint', () => {
  test('reports ok with all three checks when everything is reachable', async () => {
    const response = await stack.workers.app('/api/health')
    expect(response.status).toBe(200)
    expectSecurityHeaders(response)
    expect(response.headers.get('content-type')).toContain('application/json')
    const body = (await response.json()) as Record<string, any>
    expect(body.status).toBe('ok')
    expect(typeof body.version).toBe('string')
    for (const check of ['database', 'storage', 'rateLimiter']) {
      expect(body.checks[check].status, check).toBe('ok')
      expect(body.checks[check].latencyMs, check).toBeGreaterThanOrEqual(0)
    }
  })
})

describe('an unknown page', () => {
  test('is a 404 page with the security headers', async () => {
    const response = await stack.workers.app('/no/such/page')
    expect(response.status).toBe(404)
    expectSecurityHeaders(response)
    expect(await response.text()).toContain('Page not found')
  })
})
describe('when the database is unreachable', () => {
  test('health says down with a 503 and leaks no connection details', async () => {
    const broken = await startWorkers({
      // Nothing listens on port 9 of loopback: the connection is refused at once.
      DATABASE_URL: UNREACHABLE_DATABASE_URL,
      DB_WSPROXY: stack.database.wsProxy,
    })
    try {
      const response = await broken.app('/api/health')
      expect(response.status).toBe(503)
      expectSecurityHeaders(response)
      const text = await response.text()
      const body = JSON.parse(text)
      expect(body.status).toBe('down')
      expect(body.checks.database.status).toBe('down')
      expect(body.checks.storage.status).toBe('ok')
      expect(body.checks.rateLimiter.status).toBe('ok')
      expect(text).not.toContain('hunter2')
      expect(text).not.toContain('127.0.0.1')
    } finally {
      await broken.dispose()
    }
  })
})

describe('a misconfigured deployment', () => {
  test('answers 500 with a message that blames no visitor, and the landing page does not render', async () => {
    const misconfigured = await startWorkers({ DATABASE_URL: 'not-a-url' })
    try {
      const response = await misconfigured.app('/')
      expect(response.status).toBe(500)
      expectSecurityHeaders(response)
      const body = (await response.json()) as {
        error: { code: string; message: string }
      }
      expect(body.error.code).toBe('misconfigured')
      expect(body.error.message).not.toContain('DATABASE_URL')
    } finally {
      await misconfigured.dispose()
    }
  })
})
