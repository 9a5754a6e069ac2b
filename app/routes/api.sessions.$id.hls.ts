import * as z from 'zod'
import { setHls } from '../models/live-sessions.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson } from '../utils/request.server'
import { requireApiUser } from '../utils/session.server'

const HlsInput = z.object({
  action: z.enum(['start', 'stop'], { error: 'must be start or stop' }),
})

/** Host only: start or stop the HLS stream big audiences watch. */
export const { loader, action } = apiRoute({
  async POST({ request, params, context }) {
    const user = await requireApiUser(request, context)
    const { action } = await parseJson(request, HlsInput)
    return json(
      await setHls(getDb(context), context.hms, user, params.id ?? '', action),
    )
  },
})
