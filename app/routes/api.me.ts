import * as z from 'zod'
import { leaveChatsAfterDeletion } from '../models/chat.server'
import { deleteAccount, toMe, updateProfile } from '../models/users.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { ProfilePatch } from '../utils/validation'

const DeleteAccountInput = z.object({
  confirm: z
    .string({
      error:
        'Type your username (or the last 4 digits of your phone number) to confirm.',
    })
    .max(64),
})

export const { loader, action } = apiRoute({
  async GET({ request, context }) {
    const user = await requireApiUser(request, context)
    return json({ user: toMe(user) })
  },

  /** Edits the signed-in user's own profile (and completes a new account's). */
  async PUT({ request, context }) {
    const user = await requireApiUser(request, context)
    const patch = await parseJson(request, ProfilePatch)
    const { user: updated } = await updateProfile(
      getDb(context),
      user.id,
      patch,
    )
    return json({ user: toMe(updated) })
  },

  /** Deletes the account, confirmed by the username or, without one, the phone's last 4 digits. */
  async DELETE({ request, context }) {
    const user = await requireApiUser(request, context)
    const { confirm } = await parseJson(request, DeleteAccountInput)
    await deleteAccount(getDb(context), user, confirm)
    await leaveChatsAfterDeletion(getDb(context), context.chat, user.id)
    return new Response(null, {
      status: 204,
      headers: {
        'Cache-Control': 'no-store',
        'Set-Cookie': await context.session.clear(),
      },
    })
  },
})
