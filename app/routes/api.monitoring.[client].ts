import { apiRoute } from '../utils/api.server'
import { clientIp, parseJson, rateLimitNetwork } from '../utils/request.server'
import { ClientReport } from '../utils/validation'

// A page's reports are a few hundred bytes; anything bigger is not our reporter.
const MAX_REPORT_BYTES = 8 * 1024

/**
 * Browser errors, Web Vitals and video samples from the pages' reporter (sent with sendBeacon),
 * forwarded to Sentry through this request's monitor, scrubbed like every other event.
 */
export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    await context.limiter.check(
      'client-report',
      rateLimitNetwork(clientIp(request)),
    )
    const report = await parseJson(request, ClientReport, {
      maxBytes: MAX_REPORT_BYTES,
    })
    const url = new URL(report.page, request.url).toString()
    for (const error of report.errors)
      context.monitor.captureBrowserError({ ...error, url })
    if (report.vitals.length > 0 || report.video.length > 0)
      context.monitor.captureBrowserMetrics({
        url,
        vitals: report.vitals,
        video: report.video,
      })
    return new Response(null, { status: 204 })
  },
})
