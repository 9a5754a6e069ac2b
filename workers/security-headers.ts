/**
 * The security headers of SPEC §7, set on every response either Worker produces. Static files get
 * the same set from public/_headers, because Workers Static Assets answer before the Worker runs.
 */

/** A fresh CSP nonce: 128 random bits, base64. One per request, shared with entry.server.tsx. */
export function createNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return btoa(String.fromCharCode(...bytes))
}

// 100ms signalling/media and Sentry ingest are the only third parties a page talks to.
const CONNECT_SOURCES = [
  "'self'",
  'https://*.100ms.live',
  'wss://*.100ms.live',
  'https://*.ingest.sentry.io',
  'https://*.ingest.us.sentry.io',
  'https://*.ingest.de.sentry.io',
]

/** Where browsers report violations: `report-uri` (older browsers) and the `report-to` group. */
export const CSP_REPORT_PATH = '/api/csp-report'
const CSP_REPORT_GROUP = 'csp'

export interface PolicyOptions {
  /**
   * Whether the response goes out over https (always, in production). Chromium sends `report-to`
   * reports (the Reporting API) only from https pages, and ignores `report-uri` whenever the policy
   * names a `report-to` group, so a plain-http page (`wrangler dev` on 127.0.0.1) with both would
   * report nothing: there the policy names `report-uri` alone. Default true.
   */
  https?: boolean
}

export function contentSecurityPolicy(
  nonce?: string,
  { https = true }: PolicyOptions = {},
): string {
  const scripts = nonce ? `'self' 'nonce-${nonce}'` : "'self'"
  return [
    "default-src 'self'",
    `script-src ${scripts}`,
    // React's style attributes and the video SDK's injected styles need inline styles.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "media-src 'self' blob: https:",
    `connect-src ${CONNECT_SOURCES.join(' ')}`,
    "worker-src 'self' blob:",
    "font-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `report-uri ${CSP_REPORT_PATH}`,
    ...(https ? [`report-to ${CSP_REPORT_GROUP}`] : []),
  ].join('; ')
}

export function securityHeaders(
  nonce?: string,
  options: PolicyOptions = {},
): Record<string, string> {
  const https = options.https ?? true
  return {
    'Content-Security-Policy': contentSecurityPolicy(nonce, { https }),
    // The Reporting API's endpoint for the CSP's `report-to` group (relative to the page).
    ...(https
      ? { 'Reporting-Endpoints': `${CSP_REPORT_GROUP}="${CSP_REPORT_PATH}"` }
      : {}),
    'Strict-Transport-Security': 'max-age=63072000; includeSubDomains; preload',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'strict-origin-when-cross-origin',
    'Permissions-Policy':
      'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()',
    'Cross-Origin-Opener-Policy': 'same-origin',
    // The legacy XSS auditor is itself an attack surface; modern guidance turns it off.
    'X-XSS-Protection': '0',
  }
}

/**
 * Returns `response` with the security headers set: the same response when its headers can be
 * changed (every response the Workers build themselves), a copy when they cannot (responses from
 * fetch() are immutable). Copying costs a second Response on every page, which the landing page's
 * throughput notices.
 */
export function withSecurityHeaders(
  response: Response,
  nonce?: string,
  options?: PolicyOptions,
): Response {
  // A WebSocket upgrade response cannot be re-wrapped.
  if (response.status === 101) return response
  const headers = Object.entries(securityHeaders(nonce, options))
  try {
    // An immutable response refuses the first header, before anything changed.
    for (const [name, value] of headers) response.headers.set(name, value)
    return response
  } catch {
    const secured = new Response(response.body, response)
    for (const [name, value] of headers) secured.headers.set(name, value)
    return secured
  }
}
