import {
  and,
  asc,
  eq,
  inArray,
  isNotNull,
  isNull,
  lte,
  lt,
  sql,
  type SQL,
} from 'drizzle-orm'
import type { Db, Tx } from '../db/client.server'
import { webhookEvents } from '../db/schema'
import { isUuid } from '../utils/ids'
import { HmsWebhookEnvelope, type WebhookEnvelope } from '../utils/validation'
import type { WebhookRegistry } from './webhook-handlers.server'

/** After this many failed applications an event waits for an operator (`npm run webhooks:retry`). */
export const MAX_WEBHOOK_ATTEMPTS = 8

export type ApplyOutcome =
  | { applied: true }
  | { applied: false; reason: string; error: unknown }

export type RecordOutcome =
  | { duplicate: true }
  | ({ duplicate: false; id: string } & ApplyOutcome)

/**
 * Stores the event, then applies it through the registry in a savepoint, all in one transaction:
 * a redelivery (same 100ms event id) finds the row and changes nothing; a handler or data failure
 * rolls back only the savepoint, so the event stays stored as failed (reason, attempts, next try)
 * and the caller still answers 200: one poison event never makes 100ms retry forever. Only a
 * database that cannot be reached makes this throw.
 */
export async function recordWebhookEvent(
  db: Db,
  registry: WebhookRegistry,
  event: WebhookEnvelope,
  body: string,
): Promise<RecordOutcome> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(webhookEvents)
      .values({
        eventId: event.id,
        type: event.type,
        occurredAt: event.timestamp,
        body,
      })
      .onConflictDoNothing({ target: webhookEvents.eventId })
      .returning({ id: webhookEvents.id })
    if (!inserted) return { duplicate: true }
    const outcome = await applyWebhookEvent(
      tx,
      registry,
      inserted.id,
      event,
      body,
    )
    return { duplicate: false, id: inserted.id, ...outcome }
  })
}

/**
 * One attempt at applying a stored event, inside the caller's transaction: the payload and the
 * handler's changes in a savepoint, then the row marked applied, or failed with its reason and
 * the time of the next try (exponential backoff: 1, 2, 4 … minutes; none after the last attempt).
 */
async function applyWebhookEvent(
  tx: Tx,
  registry: WebhookRegistry,
  id: string,
  event: WebhookEnvelope,
  body: string,
): Promise<ApplyOutcome> {
  try {
    await tx.transaction(async (savepoint) => {
      await savepoint
        .update(webhookEvents)
        .set({
          payload: sql`${body}::jsonb`,
          appliedAt: sql`now()`,
          attempts: sql`${webhookEvents.attempts} + 1`,
          failedAt: null,
          failureReason: null,
          nextAttemptAt: null,
        })
        .where(eq(webhookEvents.id, id))
      await registry[event.type]?.(savepoint, event)
    })
    return { applied: true }
  } catch (error) {
    const reason = failureReason(error)
    await tx
      .update(webhookEvents)
      .set({
        attempts: sql`${webhookEvents.attempts} + 1`,
        failedAt: sql`now()`,
        failureReason: reason,
        nextAttemptAt: sql`case when ${webhookEvents.attempts} + 1 >= ${MAX_WEBHOOK_ATTEMPTS} then null
          else now() + make_interval(mins => power(2, ${webhookEvents.attempts})::int) end`,
      })
      .where(eq(webhookEvents.id, id))
    return { applied: false, reason, error }
  }
}

/** The innermost cause's message (Postgres's own words, without the query or its parameters). */
function failureReason(error: unknown): string {
  let innermost = error
  while (innermost instanceof Error && innermost.cause instanceof Error)
    innermost = innermost.cause
  const message =
    innermost instanceof Error ? innermost.message : String(innermost)
  return message.slice(0, 500)
}

export interface RetrySummary {
  retried: number
  applied: number
  failed: number
}

/**
 * Re-applies events that failed: by default those whose next try is due (the scheduled job);
 * with `all`, every failed event whatever its attempts (an operator, once the cause is fixed).
 * Each event is its own transaction, its row locked (SKIP LOCKED: two runs never apply one event
 * twice). An applied event is never selected again, so a second run changes nothing.
 */
export async function retryFailedWebhookEvents(
  db: Db,
  registry: WebhookRegistry,
  { all = false, batchSize = 100 } = {},
): Promise<RetrySummary> {
  const due = all
    ? FAILED
    : and(
        isNull(webhookEvents.appliedAt),
        lte(webhookEvents.nextAttemptAt, sql`now()`),
      )
  const candidates = await db
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(due)
    .orderBy(asc(webhookEvents.occurredAt))
    .limit(batchSize)
  const summary: RetrySummary = { retried: 0, applied: 0, failed: 0 }
  for (const { id } of candidates) {
    const outcome = await retryOne(db, registry, id, due)
    if (!outcome) continue
    summary.retried += 1
    if (outcome.applied) summary.applied += 1
    else summary.failed += 1
  }
  return summary
}

/** Stored, not applied, and tried at least once: what an operator may retry. */
const FAILED = and(
  isNull(webhookEvents.appliedAt),
  isNotNull(webhookEvents.failedAt),
)

/**
 * One event, in its own transaction, its row locked (SKIP LOCKED) and still matching `due`: null
 * when another run holds it or it no longer matches (applied meanwhile).
 */
function retryOne(
  db: Db,
  registry: WebhookRegistry,
  id: string,
  due: SQL | undefined,
): Promise<ApplyOutcome | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ body: webhookEvents.body })
      .from(webhookEvents)
      .where(and(eq(webhookEvents.id, id), due))
      .for('update', { skipLocked: true })
    if (!row) return null
    return applyWebhookEvent(
      tx,
      registry,
      id,
      parseStoredEvent(row.body),
      row.body,
    )
  })
}

/**
 * An operator's retry of one failed event (the Retry button on /ops), whatever its attempts or
 * backoff: the same attempt as the scheduled job's and `npm run webhooks:retry`'s. Null when the
 * event is not a failed one (unknown id, already applied, or being retried right now).
 */
export async function retryWebhookEvent(
  db: Db,
  registry: WebhookRegistry,
  id: string,
): Promise<ApplyOutcome | null> {
  if (!isUuid(id)) return null
  return retryOne(db, registry, id, FAILED)
}

/** A stored body was validated when it arrived; it parses the same way now. */
function parseStoredEvent(body: string): WebhookEnvelope {
  return HmsWebhookEnvelope.parse(JSON.parse(body))
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
