import { listRecordings } from '../models/recordings.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { validate } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { RecordingListQuery } from '../utils/validation'

/** Recordings of sessions the user hosted or attended: `?status&role&from&to&q&sort&limit&cursor`. */
export const { loader, action } = apiRoute({
  async GET({ request, context }) {
    const user = await requireApiUser(request, context)
    const query = validate(
      RecordingListQuery,
      Object.fromEntries(new URL(request.url).searchParams),
      'The query needs fixing.',
    )
    return json(await listRecordings(getDb(context), user.id, query))
  },
})
