import { listTransactions } from '../models/credits.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { TransactionsQuery } from '../utils/validation'
import { validate } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'

/** The signed-in user's ledger, newest first: `?type&limit(≤100)&cursor`. */
export const { loader, action } = apiRoute({
  async GET({ request, context }) {
    const user = await requireApiUser(request, context)
    const query = validate(
      TransactionsQuery,
      Object.fromEntries(new URL(request.url).searchParams),
      'The query needs fixing.',
    )
    return json(await listTransactions(getDb(context), user.id, query))
  },
})
