import * as z from 'zod'
import { cachedLeaderboard } from '../models/credits.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { validate } from '../utils/request.server'

const LeaderboardQuery = z.object({
  period: z.enum(['all', '7d'], { error: 'must be all or 7d' }).default('all'),
})

export const { loader, action } = apiRoute({
  async GET({ request, context }) {
    const { period } = validate(
      LeaderboardQuery,
      Object.fromEntries(new URL(request.url).searchParams),
      'The query needs fixing.',
    )
    return json({
      period,
      leaders: await cachedLeaderboard(getDb(context), period),
    })
  },
})
