import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
} from '@remix-run/cloudflare'
import { toMe, updateProfile } from '../models/users.server'
import { apiHandler, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireMethod } from '../utils/http.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { ProfilePatch } from '../utils/validation'

export const loader = apiHandler(
  async ({ request, context }: LoaderFunctionArgs) => {
    const user = await requireApiUser(request, context)
    return json({ user: toMe(user) })
  },
)

/** Edits the signed-in user's own profile (and completes a new account's). */
export const action = apiHandler(
  async ({ request, context }: ActionFunctionArgs) => {
    requireMethod(request, 'PUT')
    const user = await requireApiUser(request, context)
    const patch = await parseJson(request, ProfilePatch)
    const updated = await updateProfile(getDb(context), user.id, patch)
    return json({ user: toMe(updated) })
  },
)
