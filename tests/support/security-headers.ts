import { expect } from 'vitest'

// SPEC §7's security headers, written out here (not imported from workers/security-headers.ts) so a
// change there that drifts from the contract fails the tests.

const HEADERS = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'permissions-policy':
    'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()',
  'cross-origin-opener-policy': 'same-origin',
  'x-xss-protection': '0',
}

/**
 * Every directive of the CSP and its sources; `script-src` gets the nonce when there is one, and an
 * https response also names the Reporting API's group (Chromium ignores `report-uri` when a policy
 * names one, and sends its reports only from https pages).
 */
function expectedPolicy(
  nonce: string | null,
  https: boolean,
): Record<string, string> {
  return {
    'default-src': "'self'",
    'script-src': nonce ? `'self' 'nonce-${nonce}'` : "'self'",
    'style-src': "'self' 'unsafe-inline'",
    'img-src': "'self' data: blob: https:",
    'media-src': "'self' blob: https:",
    'connect-src':
      "'self' https://*.100ms.live wss://*.100ms.live https://*.ingest.sentry.io https://*.ingest.us.sentry.io https://*.ingest.de.sentry.io",
    'worker-src': "'self' blob:",
    'font-src': "'self'",
    'frame-ancestors': "'none'",
    'object-src': "'none'",
    'base-uri': "'self'",
    'form-action': "'self'",
    'report-uri': '/api/csp-report',
    ...(https ? { 'report-to': 'csp' } : {}),
  }
}

/** The CSP as directive → sources. */
export function parsePolicy(csp: string): Record<string, string> {
  return Object.fromEntries(
    csp
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [name, ...sources] = part.split(/\s+/)
        return [name!, sources.join(' ')]
      }),
  )
}

/** The nonce of a response's CSP, or null when its scripts are limited to our origin. */
export function nonceOf(headers: Headers): string | null {
  const csp = headers.get('content-security-policy') ?? ''
  return /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1] ?? null
}

/**
 * The full SPEC §7 set, exactly. `nonce`: true for the app Worker (a fresh nonce in script-src),
 * false for static files and the webhooks Worker (scripts from our origin only). `https`: whether
 * the response is the https variant (production, static files, the webhooks Worker) with the
 * Reporting API's `report-to`, or the plain-http one `wrangler dev` serves pages with.
 */
export function expectFullSecurityHeaders(
  headers: Headers,
  { nonce, https }: { nonce: boolean; https: boolean },
  what = 'response',
): void {
  for (const [name, value] of Object.entries(HEADERS))
    expect(headers.get(name), `${what}: ${name}`).toBe(value)
  expect(
    headers.get('reporting-endpoints'),
    `${what}: Reporting-Endpoints`,
  ).toBe(https ? 'csp="/api/csp-report"' : null)
  const found = nonceOf(headers)
  if (nonce)
    expect(found, `${what}: a CSP nonce`).toMatch(/^[A-Za-z0-9+/]{22}==$/)
  else expect(found, `${what}: no CSP nonce`).toBeNull()
  expect(
    parsePolicy(headers.get('content-security-policy') ?? ''),
    `${what}: Content-Security-Policy`,
  ).toEqual(expectedPolicy(found, https))
}

/** Every `<script>` tag of a document carries the response's nonce (and there is at least one). */
export function expectScriptsNonced(html: string, nonce: string): void {
  const scripts = [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0])
  expect(scripts.length).toBeGreaterThan(0)
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`)
  // Inline event handlers would need 'unsafe-inline'; none is rendered.
  expect(html).not.toMatch(/<[^>]+\son[a-z]+\s*=/i)
}
