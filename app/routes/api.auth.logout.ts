import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { deleteAuthSession } from '../models/auth-sessions.server'
import { apiHandler, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireMethod } from '../utils/http.server'
import {
  clearSessionCookie,
  getSessionId,
  requireApiUser,
} from '../utils/session.server'

export const action = apiHandler(
  async ({ request, context }: ActionFunctionArgs) => {
    requireMethod(request, 'POST')
    await requireApiUser(request, context)
    const sessionId = await getSessionId(request, context)
    if (sessionId) await deleteAuthSession(getDb(context), sessionId)
    return json(
      { signedOut: true },
      { headers: { 'Set-Cookie': await clearSessionCookie(request, context) } },
    )
  },
)
