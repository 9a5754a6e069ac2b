import { archiveAfterEnd } from '../models/chat.server'
import { endSession, getPublicSession } from '../models/live-sessions.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireApiUser } from '../utils/session.server'

/** Host only; ending an ended session is a no-op that answers the same. */
export const { loader, action } = apiRoute({
  async POST({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const db = getDb(context)
    const { session } = await endSession(db, context.hms, user, params.id ?? '')
    await archiveAfterEnd(db, context.chat, session.id)
    return json({ session: await getPublicSession(db, session.id) })
  },
})
