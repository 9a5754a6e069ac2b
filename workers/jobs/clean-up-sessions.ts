import { cleanUpSessions } from '../../app/models/live-sessions.server'
import { createHms } from '../../app/services/hms.server'
import type { Job } from './run-jobs'
import { EVERY_TEN_MINUTES } from './schedules'

/**
 * Ends sessions whose host has been gone 30 minutes, and finishes closing 100ms rooms that could not
 * be closed when their session ended (or whose session row was never written).
 */
export const cleanUpLiveSessions: Job = {
  name: 'clean-up-sessions',
  crons: [EVERY_TEN_MINUTES],
  async run({ db, env }) {
    return { ...(await cleanUpSessions(db, createHms(env))) }
  },
}
