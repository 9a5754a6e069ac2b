import { expect } from 'vitest'
import {
  expectedPolicy,
  FIXED_HEADERS,
  nonceOf,
  parsePolicy,
} from '../../scripts/lib/smoke'

// SPEC §7's security headers and CSP, written out once in the smoke test's module (not imported
// from workers/security-headers.ts) so a change there that drifts from the contract fails the tests.
export { nonceOf, parsePolicy }

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
  for (const [name, value] of Object.entries(FIXED_HEADERS))
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
