import { createCookie } from '@remix-run/cloudflare'

// The session row decides validity: it expires after 30 days without use and slides on every
// visit. The cookie only has to outlive that, so it gets the longest lifetime browsers keep
// (400 days); re-sending it on each visit just to slide its Max-Age would cost a header per page.
const COOKIE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60

/**
 * The cookie's name. Over https it carries the `__Host-` prefix, which browsers accept only with
 * Secure, Path=/ and no Domain: no subdomain or plain-http page can plant or overwrite it. Plain
 * http exists only on localhost in development, where a Secure cookie would be dropped.
 */
export function sessionCookieName(request: Request): string {
  return new URL(request.url).protocol === 'https:'
    ? '__Host-kulti_session'
    : 'kulti_session'
}

/** What the session flow needs of the cookie (app/models/browser-sessions.server.ts). */
export interface SessionCookieJar {
  /** The session id from a correctly signed cookie, or null (absent, forged, unsigned, mangled). */
  read(): Promise<string | null>
  /** The Set-Cookie header that gives this browser `sessionId`. */
  commit(sessionId: string): Promise<string>
  /** The Set-Cookie header that removes it. */
  clear(): Promise<string>
}

/**
 * The session cookie of one request: httpOnly, SameSite=Lax, holding only the session id, signed
 * (HMAC-SHA256) with the first of `secrets` and verified against all of them, so secrets rotate
 * without signing anyone out.
 */
export function sessionCookieJar(
  request: Request,
  secrets: string[],
): SessionCookieJar {
  const { protocol, hostname } = new URL(request.url)
  // Secure everywhere but plain-http localhost, where browsers would drop a Secure cookie.
  const isLocalHttp =
    protocol === 'http:' &&
    ['localhost', '127.0.0.1', '[::1]'].includes(hostname)
  const cookie = createCookie(sessionCookieName(request), {
    secrets,
    httpOnly: true,
    sameSite: 'lax',
    secure: !isLocalHttp,
    path: '/',
    maxAge: COOKIE_MAX_AGE_SECONDS,
  })
  return {
    async read() {
      let value: unknown
      try {
        value = await cookie.parse(request.headers.get('Cookie'))
      } catch {
        // A mangled Cookie header (bad percent-encoding) is a signed-out visitor, not a server error.
        return null
      }
      return typeof value === 'string' && value.length > 0 ? value : null
    },
    commit: (sessionId) => cookie.serialize(sessionId),
    clear: () => cookie.serialize('', { maxAge: 0 }),
  }
}
