import { and, inArray, isNotNull, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/client.server'
import { webhookEvents } from '../db/schema'

/** The envelope every 100ms webhook shares (reference/100ms/README.md), already validated. */
export interface WebhookEnvelope {
  id: string
  type: string
  timestamp: Date
  version: string
  data: Record<string, unknown>
}

export type RecordOutcome =
  | { duplicate: false; id: string }
  | { duplicate: true }

/**
 * Stores the event and applies it in one transaction, so an event is either stored-and-applied or
 * not there at all. A redelivery (same 100ms event id) finds the row and changes nothing.
 * Event types without a handler yet are stored and marked applied: they have nothing to change.
 */
export async function recordWebhookEvent(
  db: Db,
  event: WebhookEnvelope,
): Promise<RecordOutcome> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(webhookEvents)
      .values({
        eventId: event.id,
        type: event.type,
        occurredAt: event.timestamp,
        payload: {
          id: event.id,
          type: event.type,
          version: event.version,
          timestamp: event.timestamp.toISOString(),
          data: event.data,
        },
      })
      .onConflictDoNothing({ target: webhookEvents.eventId })
      .returning({ id: webhookEvents.id })
    if (!inserted) return { duplicate: true }
    await tx
      .update(webhookEvents)
      .set({ appliedAt: sql`now()` })
      .where(inArray(webhookEvents.id, [inserted.id]))
    return { duplicate: false, id: inserted.id }
  })
}

export const WEBHOOK_EVENT_RETENTION_DAYS = 30

/**
 * Deletes applied events older than the retention window, `batchSize` rows per statement so no
 * statement holds locks for long. Unapplied events are kept for investigation. Safe to re-run.
 */
export async function pruneAppliedWebhookEvents(
  db: Db,
  { olderThanDays = WEBHOOK_EVENT_RETENTION_DAYS, batchSize = 1_000 } = {},
): Promise<number> {
  let total = 0
  for (;;) {
    const batch = db
      .select({ id: webhookEvents.id })
      .from(webhookEvents)
      .where(
        and(
          isNotNull(webhookEvents.appliedAt),
          lt(
            webhookEvents.receivedAt,
            sql`now() - make_interval(days => ${olderThanDays})`,
          ),
        ),
      )
      .limit(batchSize)
    const deleted = await db
      .delete(webhookEvents)
      .where(inArray(webhookEvents.id, batch))
      .returning({ id: webhookEvents.id })
    total += deleted.length
    if (deleted.length < batchSize) return total
  }
}
