import { apiRoute } from '../utils/api.server'
import {
  firstSighting,
  readCspReport,
  violationError,
} from '../utils/csp-report.server'
import { clientIp, rateLimitNetwork } from '../utils/request.server'

/**
 * Where browsers report Content-Security-Policy violations (`report-uri` and `report-to` of every
 * page's CSP). Each violation is logged and sent to monitoring once, scrubbed; 204 either way.
 */
export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    // Counted before the report is parsed: a flood costs one limiter call per request.
    await context.limiter.check(
      'csp-report',
      rateLimitNetwork(clientIp(request)),
    )
    for (const violation of await readCspReport(request)) {
      if (!firstSighting(violation)) continue
      context.monitor.captureException(violationError(violation), {
        requestId: context.requestId,
        csp: violation,
      })
    }
    return new Response(null, {
      status: 204,
      headers: { 'Cache-Control': 'no-store' },
    })
  },
})
