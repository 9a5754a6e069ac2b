import { boostSession } from '../models/credits.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { idempotencyKey } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'

/** Host only: 500 credits feature the live session for 24 hours (402 if short, 409 while boosted). */
export const { loader, action } = apiRoute({
  async POST({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const { status, body } = await boostSession(
      getDb(context),
      user,
      params.id ?? '',
      idempotencyKey(request),
    )
    return json(body, { status })
  },
})
