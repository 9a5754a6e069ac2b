import type { Tx } from '../db/client.server'
import type { WebhookEnvelope } from '../utils/validation'
import { recordingEventHandlers } from './recordings.server'
import { sessionEventHandlers } from './session-events.server'

/**
 * Applies one event's state change inside the transaction that stored it (in a savepoint: a
 * handler that throws leaves the event stored as failed, to be retried). Handlers must be
 * idempotent per event and move state machines only forward, ordered by `event.timestamp`.
 */
export type WebhookHandler = (tx: Tx, event: WebhookEnvelope) => Promise<void>

export type WebhookRegistry = Readonly<Record<string, WebhookHandler>>

/**
 * Every event type Kulti handles (SPEC §5), each owned by the model whose state it changes.
 * Types not listed here are stored and answered 200, and change nothing.
 */
export const webhookHandlers: WebhookRegistry = {
  ...sessionEventHandlers,
  // beam.*, recording.success/failed, hls.recording.success (SPEC §4).
  ...recordingEventHandlers,
}
