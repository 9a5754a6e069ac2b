import { tip, wasAnswered } from '../models/credits.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { idempotencyKey, parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { TipInput } from '../utils/validation'

/** `{recipientId, amount, message?, sessionId?}` with an optional Idempotency-Key header. */
export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    const user = await requireApiUser(request, context)
    const input = await parseJson(request, TipInput)
    const key = idempotencyKey(request)
    const db = getDb(context)
    if (!(await wasAnswered(db, user.id, 'tip', key)))
      await context.limiter.check('tip', user.id)
    const { status, body } = await tip(db, user, input, key)
    return json(body, { status })
  },
})
