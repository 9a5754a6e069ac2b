import { redirect, type AppLoadContext } from '@remix-run/cloudflare'
import type { users } from '../db/schema'
import { identifyUser } from '../services/telemetry.server'
import { DomainError } from './errors'

type User = typeof users.$inferSelect

// The request's session flow lives in app/models/browser-sessions.server.ts and reaches routes as
// `context.session` (opened by workers/app.ts); these guards are what routes call.

const isMutation = (request: Request) =>
  request.method !== 'GET' && request.method !== 'HEAD'

/** The signed-in user, or null. */
export async function getUser(context: AppLoadContext): Promise<User | null> {
  return (await currentSession(context))?.user ?? null
}

/** The request's session; its user's id (and nothing else about them) goes with any report. */
async function currentSession(context: AppLoadContext) {
  const current = await context.session.current()
  if (current) identifyUser(current.user.id)
  return current
}

/**
 * Pages: the signed-in user with a complete profile. Otherwise redirects to /login (remembering
 * where to come back to) or, for a new account, to /welcome to pick a username. A mutation is
 * counted against the user's general `mutation` limit (SPEC §7).
 */
export async function requireUser(
  request: Request,
  context: AppLoadContext,
  { allowIncomplete = false } = {},
): Promise<User> {
  const current = await currentSession(context)
  if (!current) {
    const { pathname, search } = new URL(request.url)
    throw redirect(
      `/login?${new URLSearchParams({ redirectTo: pathname + search })}`,
    )
  }
  if (!allowIncomplete && current.needsProfile) throw redirect('/welcome')
  if (isMutation(request))
    await context.limiter.check('mutation', current.user.id)
  return current.user
}

/** JSON endpoints: the signed-in user (a mutation counted like on pages), or a 401. */
export async function requireApiUser(
  request: Request,
  context: AppLoadContext,
): Promise<User> {
  const current = await currentSession(context)
  if (!current) throw new DomainError('unauthenticated', 'Sign in first.', 401)
  if (isMutation(request))
    await context.limiter.check('mutation', current.user.id)
  return current.user
}

/**
 * Operator pages (/ops): the signed-in operator. Anyone else, signed in or not, gets the app's
 * plain 404, as for an address that does not exist: the page does not tell the world it is there.
 * A mutation is counted against the operator's `mutation` limit like any other.
 */
export async function requireOperator(
  request: Request,
  context: AppLoadContext,
): Promise<User> {
  const current = await currentSession(context)
  if (!current?.user.operator) throw new Response('Not Found', { status: 404 })
  if (isMutation(request))
    await context.limiter.check('mutation', current.user.id)
  return current.user
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
