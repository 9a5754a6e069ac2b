import { getBalance } from '../models/credits.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireApiUser } from '../utils/session.server'

export const { loader, action } = apiRoute({
  async GET({ request, context }) {
    const user = await requireApiUser(request, context)
    return json(await getBalance(getDb(context), user.id))
  },
})
