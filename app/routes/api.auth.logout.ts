import { apiRoute, json } from '../utils/api.server'
import { requireApiUser } from '../utils/session.server'

export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    await requireApiUser(request, context)
    return json(
      { signedOut: true },
      { headers: { 'Set-Cookie': await context.session.signOut() } },
    )
  },
})
