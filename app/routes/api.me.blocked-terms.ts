import { getBlockedTerms, replaceBlockedTerms } from '../models/chat.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { BlockedTermsInput } from '../utils/validation'

/** The signed-in host's blocked chat terms (SPEC §2a): messages containing one reach only their author. */
export const { loader, action } = apiRoute({
  async GET({ request, context }) {
    const user = await requireApiUser(request, context)
    return json({ terms: await getBlockedTerms(getDb(context), user.id) })
  },
  async PUT({ request, context }) {
    const user = await requireApiUser(request, context)
    const { terms } = await parseJson(request, BlockedTermsInput)
    return json({
      terms: await replaceBlockedTerms(
        getDb(context),
        context.chat,
        user.id,
        terms,
      ),
    })
  },
})
