import * as z from 'zod'
import {
  createSession,
  getPublicSession,
  listLiveSessions,
} from '../models/live-sessions.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson, validate } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'
import { CreateSessionInput } from '../utils/validation'

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a cursor from a previous page')
    .optional(),
})

export const { loader, action } = apiRoute({
  /** Live public sessions, most watched first, a page at a time. */
  async GET({ request, context }) {
    const query = validate(
      ListQuery,
      Object.fromEntries(new URL(request.url).searchParams),
      'The query needs fixing.',
    )
    return json(await listLiveSessions(getDb(context), query))
  },

  async POST({ request, context }) {
    const user = await requireApiUser(request, context)
    const input = await parseJson(request, CreateSessionInput)
    await context.limiter.check('session-create', user.id)
    const db = getDb(context)
    const session = await createSession(db, context.hms, user, input)
    return json(
      { session: await getPublicSession(db, session.id) },
      { status: 201 },
    )
  },
})
