import { pruneIdempotencyRecords } from '../../app/models/credits.server'
import type { Job } from './run-jobs'
import { DAILY } from './schedules'

/** Stored first answers to tips and boosts older than a week: retries that late are not retries. */
export const pruneIdempotency: Job = {
  name: 'prune-idempotency-records',
  crons: [DAILY],
  async run({ db }) {
    return { deleted: await pruneIdempotencyRecords(db) }
  },
}
