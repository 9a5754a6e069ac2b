import { startRecording } from '../models/recordings.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { RecordingControlInput } from '../utils/validation'

/** Host only: starts recording the session (SPEC §4). 201 with the recording. */
export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    const user = await requireApiUser(request, context)
    const { sessionId } = await parseJson(request, RecordingControlInput)
    await context.limiter.check('recording-control', user.id)
    const recording = await startRecording(
      getDb(context),
      context.hms,
      user,
      sessionId,
    )
    return json({ recording }, { status: 201 })
  },
})
