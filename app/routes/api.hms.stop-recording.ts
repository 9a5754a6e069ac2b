import { stopRecording } from '../models/recordings.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { RecordingControlInput } from '../utils/validation'

/** Host only: stops the session's running recording; 100ms's webhooks finish it (SPEC §4). */
export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    const user = await requireApiUser(request, context)
    const { sessionId } = await parseJson(request, RecordingControlInput)
    await context.limiter.check('recording-control', user.id)
    const recording = await stopRecording(
      getDb(context),
      context.hms,
      user,
      sessionId,
    )
    return json({ recording })
  },
})
