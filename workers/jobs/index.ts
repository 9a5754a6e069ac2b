import { archiveChats } from './archive-chats'
import { backup } from './backup'
import { cleanUpLiveSessions } from './clean-up-sessions'
import { deleteExpiredSignIns } from './delete-expired-sign-ins'
import { pruneIdempotency } from './prune-idempotency-records'
import { pruneOperationsRecords } from './prune-operations-records'
import { pruneWebhookEvents } from './prune-webhook-events'
import { reconcileRecordingsJob } from './reconcile-recordings'
import { retryWebhookEvents } from './retry-webhook-events'
import type { Job } from './run-jobs'

/** Every scheduled job. Add a job here and give it the crons it runs on. */
export const jobs: readonly Job[] = [
  pruneWebhookEvents,
  pruneIdempotency,
  deleteExpiredSignIns,
  retryWebhookEvents,
  cleanUpLiveSessions,
  archiveChats,
  reconcileRecordingsJob,
  backup,
  pruneOperationsRecords,
]
