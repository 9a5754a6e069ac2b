import { retryFailedWebhookEvents } from '../../app/models/webhook-events.server'
import { webhookHandlers } from '../../app/models/webhook-handlers.server'
import type { Job } from './run-jobs'
import { EVERY_TEN_MINUTES } from './schedules'

/** Re-applies webhook events whose application failed and whose next try is due (SPEC §5). */
export const retryWebhookEvents: Job = {
  name: 'retry-webhook-events',
  crons: [EVERY_TEN_MINUTES],
  async run({ db }) {
    const summary = await retryFailedWebhookEvents(db, webhookHandlers)
    return { ...summary }
  },
}
