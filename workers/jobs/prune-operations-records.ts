import { pruneJobRuns } from '../../app/models/job-runs.server'
import { pruneRefusals } from '../../app/models/rate-limit-refusals.server'
import type { Job } from './run-jobs'
import { DAILY } from './schedules'

/** What /ops reads, bounded: the newest runs of each job, and 30 days of refusal counts. */
export const pruneOperationsRecords: Job = {
  name: 'prune-operations-records',
  crons: [DAILY],
  async run({ db }) {
    return {
      jobRunsDeleted: await pruneJobRuns(db),
      refusalHoursDeleted: await pruneRefusals(db),
    }
  },
}
