import * as z from 'zod'
import { setPresenter } from '../models/live-sessions.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'

const PresenterInput = z.object({
  userId: z.uuid({ error: 'must be the id of a participant' }),
  action: z.enum(['promote', 'demote'], { error: 'must be promote or demote' }),
})

export const { loader, action } = apiRoute({
  async POST({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const input = await parseJson(request, PresenterInput)
    const participant = await setPresenter(
      getDb(context),
      context.hms,
      user,
      params.id ?? '',
      input,
    )
    return json({ participant })
  },
})
