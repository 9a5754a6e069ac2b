import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { checkHealth } from '../services/health.server'
import { onlyMethod } from '../utils/api.server'
import { getDb } from '../utils/context.server'

export async function loader({ context }: LoaderFunctionArgs) {
  const report = await checkHealth({
    db: () => getDb(context),
    storage: context.cloudflare.env.BACKUPS,
    limiter: context.cloudflare.env.RATE_LIMITER,
    version: context.version,
  })
  return Response.json(report, {
    status: report.status === 'down' ? 503 : 200,
    headers: { 'Cache-Control': 'no-store' },
  })
}

export const action = onlyMethod('GET')
