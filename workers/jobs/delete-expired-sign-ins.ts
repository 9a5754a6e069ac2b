import { deleteExpiredAuthSessions } from '../../app/models/auth-sessions.server'
import { deleteExpiredOtpCodes } from '../../app/models/otp.server'
import type { Job } from './run-jobs'
import { DAILY } from './schedules'

/** Expired codes and sessions already stop working; this only removes their rows. */
export const deleteExpiredSignIns: Job = {
  name: 'delete-expired-sign-ins',
  crons: [DAILY],
  async run({ db }) {
    const codes = await deleteExpiredOtpCodes(db)
    const sessions = await deleteExpiredAuthSessions(db)
    return { codes, sessions }
  },
}
