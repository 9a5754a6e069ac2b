import { getRecordingChat } from '../models/chat.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireApiUser } from '../utils/session.server'

/** The chat sent while a recording ran, as offsets into the video, for its replay (host or participant). */
export const { loader, action } = apiRoute({
  async GET({ request, params, context }) {
    const user = await requireApiUser(request, context)
    return json({
      messages: await getRecordingChat(
        getDb(context),
        user.id,
        params.id ?? '',
      ),
    })
  },
})
