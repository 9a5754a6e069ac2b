import { reconcileRecordings } from '../../app/models/recordings.server'
import { createHms } from '../../app/services/hms.server'
import type { Job } from './run-jobs'
import { HOURLY } from './schedules'

/**
 * Recordings stuck in recording/processing for 2 hours are checked against 100ms and moved on, and
 * 100ms is asked to replay failed webhook deliveries (SPEC §4). Hourly: each replay request starts a
 * 100ms workflow (rate-limited), so every ten minutes would be too often.
 */
export const reconcileRecordingsJob: Job = {
  name: 'reconcile-recordings',
  crons: [HOURLY],
  async run({ db, env }) {
    return { ...(await reconcileRecordings(db, createHms(env))) }
  },
}
