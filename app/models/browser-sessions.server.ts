import type { Db } from '../db/client.server'
import type { SessionCookieJar } from '../utils/session-cookie.server'
import { deleteAuthSession, getSessionUser } from './auth-sessions.server'
import { needsProfile, type User } from './users.server'

export interface CurrentUser {
  user: User
  /** A new account that has not chosen its username and display name yet. */
  needsProfile: boolean
}

/**
 * The session flow of one request: which user this browser (or API client) is signed in as,
 * through the signed cookie and the session row. workers/app.ts opens one per request and puts it
 * on the load context, so routes ask `context.session` instead of each reading the cookie.
 */
export interface BrowserSession {
  /** The signed-in user, or null. Looked up once per request however many loaders ask. */
  current(): Promise<CurrentUser | null>
  /** The session id the cookie holds (its signature checked), or null. */
  id(): Promise<string | null>
  /** The Set-Cookie header for a session just started. */
  commit(sessionId: string): Promise<string>
  /** Ends this browser's session (deletes its row); returns the Set-Cookie header that clears it. */
  signOut(): Promise<string>
  /** The Set-Cookie header that clears the cookie, for when the rows are already gone. */
  clear(): Promise<string>
}

export function openBrowserSession(
  db: () => Db,
  cookies: SessionCookieJar,
  {
    cacheable,
  }: {
    /**
     * Only reads are cached: in a form POST without JavaScript the action and then the loaders run
     * in one request, and the loaders must see what the action changed.
     */
    cacheable: boolean
  },
): BrowserSession {
  let cached: Promise<CurrentUser | null> | undefined
  const lookUp = async () => {
    const id = await cookies.read()
    const user = id ? await getSessionUser(db(), id) : null
    return user ? { user, needsProfile: needsProfile(user) } : null
  }
  return {
    current() {
      if (!cacheable) return lookUp()
      return (cached ??= lookUp())
    },
    id: () => cookies.read(),
    commit: (sessionId) => cookies.commit(sessionId),
    async signOut() {
      const id = await cookies.read()
      if (id) await deleteAuthSession(db(), id)
      cached = undefined
      return cookies.clear()
    },
    clear: () => cookies.clear(),
  }
}
