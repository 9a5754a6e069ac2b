import { redirect, type ActionFunctionArgs } from '@remix-run/cloudflare'
import { deleteAuthSession } from '../models/auth-sessions.server'
import { getDb } from '../utils/context.server'
import { clearSessionCookie, getSessionId } from '../utils/session.server'

/** Signing out is a POST (a GET could be triggered by any link or prefetch); a GET just goes home. */
export function loader() {
  return redirect('/')
}

export async function action({ request, context }: ActionFunctionArgs) {
  const sessionId = await getSessionId(request, context)
  if (sessionId) await deleteAuthSession(getDb(context), sessionId)
  return redirect('/', {
    headers: { 'Set-Cookie': await clearSessionCookie(request, context) },
  })
}
