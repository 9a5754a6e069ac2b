import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.server'
import { authSessions, otpCodes, users } from '../db/schema'
import type { ProfilePatch } from '../utils/validation'
import { DomainError } from './errors'

export type User = typeof users.$inferSelect
type Queryable = Db | Tx

/** What a person sees about themselves (GET /api/me): never the phone number. */
export interface Me {
  id: string
  username: string | null
  displayName: string | null
  bio: string
  avatarUrl: string | null
  credits: number
}

export function toMe(user: User): Me {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    bio: user.bio,
    avatarUrl: user.avatarUrl,
    credits: user.credits,
  }
}

/** A new account picks a username and a display name before it can do anything else. */
export function needsProfile(
  user: Pick<User, 'username' | 'displayName'>,
): boolean {
  return !user.username || !user.displayName
}

/** The account for a verified phone number, created on first sign-in. */
export async function findOrCreateUserByPhone(
  db: Queryable,
  phone: string,
): Promise<{ user: User; created: boolean }> {
  const [created] = await db
    .insert(users)
    .values({ phone })
    .onConflictDoNothing({ target: users.phone })
    .returning()
  if (created) return { user: created, created: true }
  const [existing] = await db.select().from(users).where(eq(users.phone, phone))
  if (!existing) throw new Error('user vanished between insert and select')
  return { user: existing, created: false }
}

export async function getUserById(
  db: Queryable,
  id: string,
): Promise<User | null> {
  const [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, id), isNull(users.deletedAt)))
  return user ?? null
}

export async function getUserByUsername(
  db: Queryable,
  username: string,
): Promise<User | null> {
  const [user] = await db
    .select()
    .from(users)
    .where(
      and(
        sql`lower(${users.username}) = ${username.toLowerCase()}`,
        isNull(users.deletedAt),
      ),
    )
  return user ?? null
}

/**
 * Changes the acting user's own profile. A username someone else holds (in any letter case) is a
 * 409; completing the profile needs both a username and a display name.
 */
export async function updateProfile(
  db: Db,
  userId: string,
  patch: ProfilePatch,
): Promise<User> {
  const current = await getUserById(db, userId)
  if (!current)
    throw new DomainError('not_found', 'This account no longer exists.', 404)
  const next = { ...current, ...definedOnly(patch) }
  if (needsProfile(next)) {
    const fields: Record<string, string> = {}
    if (!next.username) fields.username = 'Choose a username.'
    if (!next.displayName) fields.displayName = 'Enter a display name.'
    throw new DomainError(
      'profile_incomplete',
      'Choose a username and a display name to finish signing up.',
      400,
      fields,
    )
  }
  try {
    const [updated] = await db
      .update(users)
      .set({ ...definedOnly(patch), updatedAt: sql`now()` })
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .returning()
    if (!updated)
      throw new DomainError('not_found', 'This account no longer exists.', 404)
    return updated
  } catch (error) {
    if (isUniqueViolation(error, 'users_username_lower_key')) {
      throw new DomainError('username_taken', 'That username is taken.', 409, {
        username: 'That username is taken. Try another.',
      })
    }
    throw error
  }
}

/**
 * Deletes an account: personal data is cleared and every session and code removed, in one
 * transaction. The row itself stays (anonymised) so ledger rows that point at it keep their
 * meaning. Live sessions the user hosts will be ended here once sessions exist (SPEC §2).
 */
export async function deleteAccount(db: Db, userId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [user] = await tx
      .select({ phone: users.phone })
      .from(users)
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .for('update')
    if (!user) return
    if (user.phone)
      await tx.delete(otpCodes).where(eq(otpCodes.phone, user.phone))
    await tx.delete(authSessions).where(eq(authSessions.userId, userId))
    await tx
      .update(users)
      .set({
        phone: null,
        username: null,
        displayName: null,
        bio: '',
        avatarUrl: null,
        deletedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(eq(users.id, userId))
  })
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (
    let e: unknown = error;
    e && typeof e === 'object';
    e = (e as { cause?: unknown }).cause
  ) {
    const { code, constraint: name } = e as {
      code?: string
      constraint?: string
    }
    if (code === '23505' && (name === constraint || name === undefined))
      return true
  }
  return false
}
