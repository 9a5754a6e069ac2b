import * as z from 'zod'
import {
  joinSession,
  requireVisibleSession,
} from '../models/live-sessions.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'

// Anything else a client sends (a `role`, say) is dropped: the role comes from the database.
const TokenInput = z.object({ roomCode: z.string().max(20).optional() })

export const { loader, action } = apiRoute({
  async POST({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const { roomCode } = await parseJson(request, TokenInput)
    const db = getDb(context)
    const session = await requireVisibleSession(db, params.id ?? '', {
      userId: user.id,
      roomCode,
    })
    return json(
      await joinSession(db, context.hms, user, session, {
        hlsThreshold: context.env.HLS_VIEWER_THRESHOLD,
      }),
    )
  },
})
