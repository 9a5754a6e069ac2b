import { cachedHealth } from '../services/health.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'

export const { loader, action } = apiRoute({
  async GET({ context }) {
    const report = await cachedHealth({
      db: () => getDb(context),
      storage: context.cloudflare.env.BACKUPS,
      limiter: context.cloudflare.env.RATE_LIMITER,
      version: context.version,
    })
    return json(report, { status: report.status === 'down' ? 503 : 200 })
  },
})
