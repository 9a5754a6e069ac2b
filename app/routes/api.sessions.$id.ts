import {
  getPublicSession,
  requireVisibleSession,
} from '../models/live-sessions.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { getUser } from '../utils/session.server'

/** One session, per its visibility: public to anyone, private to participants or with `?code=`. */
export const { loader, action } = apiRoute({
  async GET({ request, params, context }) {
    const db = getDb(context)
    const user = await getUser(context)
    const session = await requireVisibleSession(db, params.id ?? '', {
      userId: user?.id ?? null,
      roomCode: new URL(request.url).searchParams.get('code') ?? undefined,
    })
    return json({ session: await getPublicSession(db, session.id) })
  },
})
