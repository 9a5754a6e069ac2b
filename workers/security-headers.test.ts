import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import {
  contentSecurityPolicy,
  createNonce,
  securityHeaders,
  withSecurityHeaders,
} from './security-headers'

/** The headers public/_headers gives every static file (the `/*` block). */
function staticFileHeaders(): Record<string, string> {
  const lines = readFileSync(
    new URL('../public/_headers', import.meta.url),
    'utf8',
  ).split('\n')
  const headers: Record<string, string> = {}
  let inAllFiles = false
  for (const line of lines) {
    if (/^\S/.test(line)) inAllFiles = line.trim() === '/*'
    else if (inAllFiles && line.trim()) {
      const [name, ...value] = line.trim().split(':')
      headers[name!] = value.join(':').trim()
    }
  }
  return headers
}

describe('security headers', () => {
  test('static files get exactly the headers the Worker sets (without a nonce)', () => {
    expect(staticFileHeaders()).toEqual(securityHeaders())
  })

  test('the CSP allows scripts only from our origin and by nonce', () => {
    const csp = contentSecurityPolicy('abc123')
    expect(csp).toContain("script-src 'self' 'nonce-abc123'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("object-src 'none'")
    expect(csp).toContain("base-uri 'self'")
    expect(csp).not.toContain('unsafe-eval')
  })

  test('violations are reported to /api/csp-report; over https through the Reporting API too', () => {
    const https = securityHeaders('n')
    expect(https['Content-Security-Policy']).toContain(
      'report-uri /api/csp-report; report-to csp',
    )
    expect(https['Reporting-Endpoints']).toBe('csp="/api/csp-report"')
    // Chromium ignores report-uri when report-to is named, and sends report-to only from https.
    const http = securityHeaders('n', { https: false })
    expect(http['Content-Security-Policy']).toMatch(
      /report-uri \/api\/csp-report$/,
    )
    expect(http['Reporting-Endpoints']).toBeUndefined()
  })

  test('every nonce is fresh and carries 128 bits', () => {
    const nonces = new Set(Array.from({ length: 100 }, createNonce))
    expect(nonces.size).toBe(100)
    for (const nonce of nonces) expect(atob(nonce)).toHaveLength(16)
  })

  test('headers replace what a handler set and keep the rest', async () => {
    const original = new Response('hi', {
      status: 418,
      headers: { 'X-Frame-Options': 'ALLOW', 'X-Custom': 'kept' },
    })
    const secured = withSecurityHeaders(original, 'n0nce')
    expect(secured.status).toBe(418)
    expect(secured.headers.get('X-Frame-Options')).toBe('DENY')
    expect(secured.headers.get('X-Custom')).toBe('kept')
    expect(await secured.text()).toBe('hi')
  })

  test('a response whose headers cannot change (a redirect, a fetch) is copied with them', () => {
    const secured = withSecurityHeaders(
      Response.redirect('https://kulti.example/login', 302),
      'n0nce',
    )
    expect(secured.status).toBe(302)
    expect(secured.headers.get('Location')).toBe('https://kulti.example/login')
    expect(secured.headers.get('X-Frame-Options')).toBe('DENY')
    expect(secured.headers.get('Content-Security-Policy')).toContain(
      "'nonce-n0nce'",
    )
  })
})
