import { setSessionModerator } from '../models/chat.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { ModeratorInput } from '../utils/validation'

/** Host only: `{userId, action: add|remove}` names or removes a chat moderator. */
export const { loader, action } = apiRoute({
  async POST({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const input = await parseJson(request, ModeratorInput)
    const moderator = await setSessionModerator(
      getDb(context),
      context.chat,
      user.id,
      params.id ?? '',
      input,
    )
    return json({ moderator })
  },
})
