import { exportSessionChat } from '../models/chat.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireApiUser } from '../utils/session.server'

/** Host only: the archived chat of an ended session, hidden and held messages flagged, with the moderation log. */
export const { loader, action } = apiRoute({
  async GET({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const chat = await exportSessionChat(
      getDb(context),
      user.id,
      params.id ?? '',
    )
    return json(chat, {
      headers: {
        'Content-Disposition': `attachment; filename="kulti-chat-${chat.session.id}.json"`,
      },
    })
  },
})
