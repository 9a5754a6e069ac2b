import {
  createCookie,
  redirect,
  type AppLoadContext,
} from '@remix-run/cloudflare'
import {
  deleteAuthSession,
  getSessionUser,
} from '../models/auth-sessions.server'
import { needsProfile, type User } from '../models/users.server'
import { getDb } from './context.server'
import { jsonError } from './http.server'

export const SESSION_COOKIE = 'kulti_session'

// The session row decides validity: it expires after SESSION_TTL_DAYS without use and slides on
// every visit. The cookie only has to outlive that, so it gets the longest lifetime browsers keep
// (400 days); re-sending it on each visit just to slide its Max-Age would cost a header per page.
const COOKIE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60

/**
 * The session cookie: httpOnly, SameSite=Lax, signed (HMAC-SHA256) with the first of
 * SESSION_SECRETS and verified against all of them, so secrets rotate without signing anyone out.
 * Secure everywhere but plain-http localhost, where browsers would drop a Secure cookie.
 */
function sessionCookie(request: Request, context: AppLoadContext) {
  const { hostname, protocol } = new URL(request.url)
  const isLocalHttp =
    protocol === 'http:' &&
    ['localhost', '127.0.0.1', '[::1]'].includes(hostname)
  return createCookie(SESSION_COOKIE, {
    secrets: context.env.SESSION_SECRETS,
    httpOnly: true,
    sameSite: 'lax',
    secure: !isLocalHttp,
    path: '/',
    maxAge: COOKIE_MAX_AGE_SECONDS,
  })
}

/** The session id from a correctly signed cookie, or null (absent, forged, unsigned). */
export async function getSessionId(
  request: Request,
  context: AppLoadContext,
): Promise<string | null> {
  let value: unknown
  try {
    value = await sessionCookie(request, context).parse(
      request.headers.get('Cookie'),
    )
  } catch {
    // A mangled Cookie header (bad percent-encoding) is a signed-out visitor, not a server error.
    return null
  }
  return typeof value === 'string' && value.length > 0 ? value : null
}

export function commitSessionCookie(
  request: Request,
  context: AppLoadContext,
  sessionId: string,
): Promise<string> {
  return sessionCookie(request, context).serialize(sessionId)
}

export function clearSessionCookie(
  request: Request,
  context: AppLoadContext,
): Promise<string> {
  return sessionCookie(request, context).serialize('', { maxAge: 0 })
}

// Keyed by the load context, which all loaders of one request share (Remix gives each loader its
// own Request object). Only reads are cached: in a form POST without JavaScript the action and
// then the loaders run in one request, and the loaders must see what the action changed.
const userCache = new WeakMap<AppLoadContext, Promise<User | null>>()

/** Ends this browser's session (deletes its row) and returns the Set-Cookie header that clears it. */
export async function signOut(
  request: Request,
  context: AppLoadContext,
): Promise<string> {
  const sessionId = await getSessionId(request, context)
  if (sessionId) await deleteAuthSession(getDb(context), sessionId)
  return clearSessionCookie(request, context)
}

/** The signed-in user, or null. Looked up once per request however many loaders ask. */
export function getUser(
  request: Request,
  context: AppLoadContext,
): Promise<User | null> {
  const cacheable = request.method === 'GET' || request.method === 'HEAD'
  let user = cacheable ? userCache.get(context) : undefined
  if (!user) {
    user = getSessionId(request, context).then((id) =>
      id ? getSessionUser(getDb(context), id) : null,
    )
    if (cacheable) userCache.set(context, user)
  }
  return user
}

/**
 * Pages: the signed-in user with a complete profile. Otherwise redirects to /login (remembering
 * where to come back to) or, for a new account, to /welcome to pick a username.
 */
export async function requireUser(
  request: Request,
  context: AppLoadContext,
  { allowIncomplete = false } = {},
) {
  const user = await getUser(request, context)
  if (!user) {
    const { pathname, search } = new URL(request.url)
    throw redirect(
      `/login?${new URLSearchParams({ redirectTo: pathname + search })}`,
    )
  }
  if (!allowIncomplete && needsProfile(user)) throw redirect('/welcome')
  return user
}

/** JSON endpoints: the signed-in user, or a 401 in the JSON error shape. */
export async function requireApiUser(
  request: Request,
  context: AppLoadContext,
): Promise<User> {
  const user = await getUser(request, context)
  if (!user) throw jsonError(401, 'unauthenticated', 'Sign in first.')
  return user
}

/** A same-site path to go back to after signing in; anything else becomes /dashboard. */
export function safeRedirect(
  to: FormDataEntryValue | string | null | undefined,
  fallback = '/dashboard',
): string {
  if (typeof to !== 'string' || !to.startsWith('/')) return fallback
  // Resolve it the way a browser would (which drops tabs and newlines and reads `\` as `/`, so
  // "/\t/evil.example" means "//evil.example") and keep it only if it stays on our origin.
  const base = 'http://kulti.invalid'
  let resolved: URL
  try {
    resolved = new URL(to, base)
  } catch {
    return fallback
  }
  if (resolved.origin !== base) return fallback
  return resolved.pathname + resolved.search + resolved.hash
}
