import {
  pruneAppliedWebhookEvents,
  WEBHOOK_EVENT_RETENTION_DAYS,
} from '../../app/models/webhook-events.server'
import type { Job } from './run-jobs'
import { DAILY } from './schedules'

export const pruneWebhookEvents: Job = {
  name: 'prune-webhook-events',
  crons: [DAILY],
  async run({ db }) {
    const deleted = await pruneAppliedWebhookEvents(db, {
      olderThanDays: WEBHOOK_EVENT_RETENTION_DAYS,
    })
    return { deleted }
  },
}
