import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db } from '../db/client.server'
import { users } from '../db/schema'
import { looksLikeUsername } from './users.server'

export interface OperatorChange {
  userId: string
  username: string
  /** The flag before the change; equal to the new value when nothing changed. */
  was: boolean
  now: boolean
}

/**
 * Makes the account named `username` an operator (may open /ops) or not. Null when no live
 * account has that username (any letter case). The row is locked, so `was` is what it replaced.
 */
export async function setOperator(
  db: Db,
  username: string,
  operator: boolean,
): Promise<OperatorChange | null> {
  if (!looksLikeUsername(username)) return null
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select({
        id: users.id,
        username: users.username,
        operator: users.operator,
      })
      .from(users)
      .where(
        and(
          sql`lower(${users.username}) = ${username.toLowerCase()}`,
          isNull(users.deletedAt),
        ),
      )
      .for('update')
    if (!user?.username) return null
    if (user.operator !== operator)
      await tx
        .update(users)
        .set({ operator, updatedAt: sql`now()` })
        .where(eq(users.id, user.id))
    return {
      userId: user.id,
      username: user.username,
      was: user.operator,
      now: operator,
    }
  })
}
