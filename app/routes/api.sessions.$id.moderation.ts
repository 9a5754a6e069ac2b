import { ModerationCommand } from '../models/chat-rules'
import { moderateChat } from '../models/chat.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'

/** Host or moderator: hide, answer, timeout, ban, unban, slow (SPEC §2a). The chat object decides. */
export const { loader, action } = apiRoute({
  async POST({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const command = await parseJson(request, ModerationCommand)
    await moderateChat(
      getDb(context),
      context.chat,
      user.id,
      params.id ?? '',
      command,
    )
    return json({ ok: true })
  },
})
