import { deleteRecording, getRecording } from '../models/recordings.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireApiUser } from '../utils/session.server'

export const { loader, action } = apiRoute({
  /** One recording, with a fresh presigned playback URL when it is completed. */
  async GET({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const recording = await getRecording(
      getDb(context),
      context.hms,
      user.id,
      params.id ?? '',
    )
    return json({ recording })
  },

  /** Host only: removes the recording (204). */
  async DELETE({ request, params, context }) {
    const user = await requireApiUser(request, context)
    await deleteRecording(getDb(context), context.hms, user.id, params.id ?? '')
    return new Response(null, {
      status: 204,
      headers: { 'Cache-Control': 'no-store' },
    })
  },
})
