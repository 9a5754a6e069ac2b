import { Toucan } from 'toucan-js'
import { scrubDeep, scrubError } from './scrub'

/**
 * The only module that knows toucan-js (in maintenance mode). Swapping to @sentry/cloudflare must
 * stay a change to this file alone: see docs/decisions/005-toucan-behind-one-module.md.
 */
export interface Monitor {
  captureException(error: unknown, extra?: Record<string, unknown>): void
}

export interface MonitorOptions {
  dsn?: string
  environment: string
  release: string
  context: Pick<ExecutionContext, 'waitUntil'>
  request?: Request
}

export function createMonitor({
  dsn,
  environment,
  release,
  context,
  request,
}: MonitorOptions): Monitor {
  const sentry = dsn
    ? new Toucan({
        dsn,
        environment,
        release,
        context,
        request,
        // Only these headers reach Sentry: cookies and auth headers never leave the Worker.
        requestDataOptions: {
          allowedHeaders: ['user-agent', 'cf-ray', 'content-type'],
          allowedSearchParams: /^$/,
        },
        // A last pass over whatever else an event carries (breadcrumbs, messages).
        beforeSend: (event) => scrubDeep(event),
      })
    : null
  return {
    captureException(error, extra) {
      // Errors carry what they were working on (a query's parameters, a URL): scrub before anyone sees it.
      const safe = scrubError(error)
      log('error', safe.message, {
        ...extra,
        error: safe.name,
        stack: safe.stack,
      })
      if (!sentry) return
      sentry.withScope((scope) => {
        if (extra) scope.setExtras(extra)
        sentry.captureException(safe)
      })
    },
  }
}

type Level = 'debug' | 'info' | 'warn' | 'error'

/** One structured JSON line per event, the shape Workers Logs and `wrangler tail` index. */
export function log(
  level: Level,
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({
    level,
    msg,
    time: new Date().toISOString(),
    ...fields,
  })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}
