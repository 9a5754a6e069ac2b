import { and, eq, gt, lt, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.server'
import { authSessions, users } from '../db/schema'
import { consumeSignInCode } from './otp.server'
import {
  findOrCreateUserByPhone,
  needsProfile,
  type User,
} from './users.server'

export const SESSION_TTL_DAYS = 30
// Sliding expiry is refreshed at most this often, so reading a page is not a write every time.
const TOUCH_AFTER_MINUTES = 5

export interface Client {
  userAgent: string | null
  ipPrefix: string | null
}

export interface SignIn {
  user: User
  sessionId: string
  needsProfile: boolean
}

/** 256 random bits, base64url: the only thing the cookie carries. */
function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/**
 * Rows are keyed by SHA-256 of the id, not the id: someone who can read the table (a backup, a
 * leaked dump) cannot use it to sign in as anyone. The id has 256 random bits, so no salt is needed.
 */
async function storedId(sessionId: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(sessionId),
  )
  return [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
}

/** Starts a session for `userId`; returns the id for the cookie (only its hash is stored). */
export async function createAuthSession(
  tx: Tx,
  userId: string,
  client: Client,
): Promise<string> {
  const id = newSessionId()
  await tx.insert(authSessions).values({
    id: await storedId(id),
    userId,
    userAgent: client.userAgent?.slice(0, 512) ?? null,
    ipPrefix: client.ipPrefix,
    expiresAt: sql`now() + make_interval(days => ${SESSION_TTL_DAYS})`,
  })
  return id
}

/**
 * Checks a code and signs the phone's owner in (creating the account on first sign-in), in one
 * transaction. A wrong code's spent attempt is committed even though sign-in fails.
 */
export async function signInWithCode(
  db: Db,
  {
    phone,
    code,
    secret,
    client,
    replacing,
  }: {
    phone: string
    code: string
    secret: string
    client: Client
    /** The session this browser already holds: its row is replaced, not left behind. */
    replacing: string | null
  },
): Promise<SignIn> {
  const outcome = await db.transaction(async (tx) => {
    const attempt = await consumeSignInCode(tx, { phone, code, secret })
    if (!attempt.ok) return attempt
    const { user } = await findOrCreateUserByPhone(tx, phone)
    if (replacing)
      await tx
        .delete(authSessions)
        .where(eq(authSessions.id, await storedId(replacing)))
    const sessionId = await createAuthSession(tx, user.id, client)
    return { ok: true as const, user, sessionId }
  })
  if (!outcome.ok) throw outcome.error
  return {
    user: outcome.user,
    sessionId: outcome.sessionId,
    needsProfile: needsProfile(outcome.user),
  }
}

/**
 * The signed-in user behind a session id, or null (unknown, expired, or a deleted account). One
 * round trip: the sliding expiry moves forward (at most every few minutes) in a data-modifying CTE
 * of the same statement that reads the user.
 */
export async function getSessionUser(
  db: Db,
  sessionId: string,
): Promise<User | null> {
  const id = await storedId(sessionId)
  const touched = db.$with('touched').as(
    db
      .update(authSessions)
      .set({
        lastSeenAt: sql`now()`,
        expiresAt: sql`now() + make_interval(days => ${SESSION_TTL_DAYS})`,
      })
      .where(
        and(
          eq(authSessions.id, id),
          gt(authSessions.expiresAt, sql`now()`),
          lt(
            authSessions.lastSeenAt,
            sql`now() - make_interval(mins => ${TOUCH_AFTER_MINUTES})`,
          ),
        ),
      )
      .returning({ id: authSessions.id }),
  )
  const [row] = await db
    .with(touched)
    .select({ user: users })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(
      and(
        eq(authSessions.id, id),
        gt(authSessions.expiresAt, sql`now()`),
        sql`${users.deletedAt} is null`,
      ),
    )
  return row?.user ?? null
}

export async function deleteAuthSession(
  db: Db,
  sessionId: string,
): Promise<void> {
  await db
    .delete(authSessions)
    .where(eq(authSessions.id, await storedId(sessionId)))
}

/** "Sign out everywhere": every session of the user, this one included. */
export async function deleteAllAuthSessions(
  db: Db,
  userId: string,
): Promise<number> {
  const deleted = await db
    .delete(authSessions)
    .where(eq(authSessions.userId, userId))
    .returning({ id: authSessions.id })
  return deleted.length
}

export async function deleteExpiredAuthSessions(db: Db): Promise<number> {
  const deleted = await db
    .delete(authSessions)
    .where(lt(authSessions.expiresAt, sql`now()`))
    .returning({ id: authSessions.id })
  return deleted.length
}
