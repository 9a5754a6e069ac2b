import { desc } from 'drizzle-orm'
import type { Db } from '../db/client.server'
import { smsOutbox } from '../db/schema'

export interface OutboxMessage {
  to: string
  body: string
  sentAt: string
}

export async function addToOutbox(
  db: Db,
  to: string,
  body: string,
): Promise<void> {
  await db.insert(smsOutbox).values({ to, body })
}

/** Newest first; the outbox is a development tool, so a fixed page is enough. */
export async function listOutbox(db: Db, limit = 50): Promise<OutboxMessage[]> {
  const rows = await db
    .select()
    .from(smsOutbox)
    .orderBy(desc(smsOutbox.sentAt), desc(smsOutbox.id))
    .limit(limit)
  return rows.map((row) => ({
    to: row.to,
    body: row.body,
    sentAt: row.sentAt.toISOString(),
  }))
}
