import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.server'
import { isUniqueViolation } from '../db/errors'
import {
  authSessions,
  chatBlockedTerms,
  chatMessages,
  otpCodes,
  smsOutbox,
  users,
} from '../db/schema'
import type { ProfilePatch } from '../utils/validation'
import { DomainError } from '../utils/errors'
import { payWelcomeBonus } from './credits.server'
import { endHostedSessions } from './live-sessions.server'
import { deleteHostedRecordings } from './recordings.server'

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
  db: Tx,
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

/**
 * Whether `text` could be a username (3–20 of `a-z 0-9 _ -`, any case). Anything else names nobody,
 * without a query: it comes from a path segment, and Postgres refuses some text outright (a NUL).
 */
export function looksLikeUsername(text: string): boolean {
  return /^[A-Za-z0-9_-]{3,20}$/.test(text)
}

export async function getUserByUsername(
  db: Queryable,
  username: string,
): Promise<User | null> {
  if (!looksLikeUsername(username)) return null
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

export interface ProfileUpdate {
  user: User
  /**
   * This call completed a new account's profile (username and display name chosen for the first
   * time). True for exactly one call per account, even when two race: the welcome bonus hangs on it.
   */
  completedProfile: boolean
}

/**
 * Changes the acting user's own profile. A username someone else holds (in any letter case) is a
 * 409; completing the profile needs both a username and a display name. The row is locked for the
 * read-check-write, so two concurrent calls see each other's result.
 */
export async function updateProfile(
  db: Db,
  userId: string,
  patch: ProfilePatch,
): Promise<ProfileUpdate> {
  try {
    return await db.transaction(async (tx) => {
      const current = await lockUser(tx, userId)
      if (!current)
        throw new DomainError(
          'not_found',
          'This account no longer exists.',
          404,
        )
      const changes = definedOnly(patch)
      const next = { ...current, ...changes }
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
      const [updated] = await tx
        .update(users)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(eq(users.id, userId))
        .returning()
      const completedProfile = needsProfile(current)
      // SPEC §3: 100 credits when a new account completes its profile, once (the key sees to it).
      if (completedProfile) await payWelcomeBonus(tx, userId)
      const [paid] = completedProfile
        ? await tx.select().from(users).where(eq(users.id, userId))
        : [updated]
      return { user: paid!, completedProfile }
    })
  } catch (error) {
    if (isUniqueViolation(error, 'users_username_lower_key')) {
      throw new DomainError('username_taken', 'That username is taken.', 409, {
        username: 'That username is taken. Try another.',
      })
    }
    throw error
  }
}

/** The live account row, locked until the transaction ends; null for a deleted or unknown id. */
async function lockUser(tx: Tx, userId: string): Promise<User | null> {
  const [user] = await tx
    .select()
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)))
    .for('no key update')
  return user ?? null
}

/**
 * What a person types to confirm deleting their account: the username, or, for an account that
 * never chose one, the last 4 digits of its phone number. Throws a 400 naming what to type.
 */
export function confirmAccountDeletion(user: User, confirm: string): void {
  // Exactly as shown: retyping is the safeguard against a stray click or a pasted guess.
  const expected = user.username ?? user.phone?.slice(-4)
  if (expected && confirm.trim() === expected) return
  const message = user.username
    ? `Type your username, ${user.username}, exactly as shown to confirm.`
    : 'Type the last 4 digits of your phone number to confirm.'
  throw new DomainError('confirmation_mismatch', message, 400, {
    confirm: message,
  })
}

/**
 * Deletes an account after `confirmAccountDeletion`: personal data is cleared and every session
 * and code removed, in one transaction. The row itself stays (anonymised, no phone number) so
 * ledger rows that point at it keep their meaning. Every feature adds its clean-up to
 * `removePersonalData`, inside the same transaction.
 */
export async function deleteAccount(
  db: Db,
  user: User,
  confirm: string,
): Promise<void> {
  confirmAccountDeletion(user, confirm)
  await db.transaction(async (tx) => {
    const current = await lockUser(tx, user.id)
    if (current) await removePersonalData(tx, current)
  })
}

async function removePersonalData(tx: Tx, user: User): Promise<void> {
  // Their live sessions end (and settle) with the account; the job closes the 100ms rooms.
  await endHostedSessions(tx, user.id)
  // Recordings of their sessions show them and the people they invited: they go too.
  await deleteHostedRecordings(tx, user.id)
  if (user.phone) {
    await tx.delete(otpCodes).where(eq(otpCodes.phone, user.phone))
    // Development's outbox keeps texts by number; nothing of the number may stay behind.
    await tx.delete(smsOutbox).where(eq(smsOutbox.to, user.phone))
  }
  await tx.delete(authSessions).where(eq(authSessions.userId, user.id))
  // What they wrote in archived chats, and the terms they blocked, are theirs.
  await tx.delete(chatMessages).where(eq(chatMessages.userId, user.id))
  await tx.delete(chatBlockedTerms).where(eq(chatBlockedTerms.hostId, user.id))
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
    .where(eq(users.id, user.id))
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>
}
