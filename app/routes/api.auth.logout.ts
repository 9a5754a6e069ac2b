import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { apiHandler, json, onlyMethod } from '../utils/api.server'
import { requireMethod } from '../utils/http.server'
import { requireApiUser, signOut } from '../utils/session.server'

export const loader = onlyMethod('POST')

export const action = apiHandler(
  async ({ request, context }: ActionFunctionArgs) => {
    requireMethod(request, 'POST')
    await requireApiUser(request, context)
    return json(
      { signedOut: true },
      { headers: { 'Set-Cookie': await signOut(request, context) } },
    )
  },
)
