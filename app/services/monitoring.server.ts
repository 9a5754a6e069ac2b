import { Toucan } from 'toucan-js'
import type { MonitoringEnv } from '../utils/env.server'
import { isDomainError, isRateLimited } from '../utils/errors'
import { scrubDeep, scrubError, scrubEvent, scrubUrl } from './scrub'
import {
  createTelemetry,
  withTelemetry,
  writeLine,
  type Reporter,
  type Telemetry,
} from './telemetry.server'

export { log } from './telemetry.server'

/**
 * The only module that knows toucan-js (in maintenance mode). Swapping to @sentry/cloudflare must
 * stay a change to this file alone: see docs/decisions/005-toucan-behind-one-module.md. One
 * Monitor (one Toucan client) per request, scheduled run and Durable Object call; everything it
 * sends goes through `beforeSend`, which drops expected errors and scrubs what is left.
 */
export interface Monitor extends Reporter {
  /** A cron check-in (`in_progress`, then `ok` or `error` with the same id); returns its id. */
  checkIn(
    job: string,
    status: 'in_progress' | 'ok' | 'error',
    options?: { checkInId?: string; durationSeconds?: number },
  ): string
  /** An error a browser reported (POST /api/monitoring/client). */
  captureBrowserError(error: BrowserError): void
  /** Web Vitals and video samples a browser reported. */
  captureBrowserMetrics(metrics: BrowserMetrics): void
}

export interface BrowserError {
  name: string
  message: string
  stack?: string
  /** The page's URL (scrubbed before it leaves). */
  url: string
  kind: 'error' | 'unhandledrejection'
}

export interface BrowserMetrics {
  url: string
  vitals: Array<{ name: string; value: number; rating?: string }>
  video: Array<{ name: string; value: number }>
}

export interface MonitorOptions {
  env: Pick<MonitoringEnv, 'SENTRY_DSN' | 'ENVIRONMENT' | 'SENTRY_SAMPLE_RATE'>
  /** From the build (`__BUILD_VERSION__`). */
  release: string
  context: Pick<ExecutionContext, 'waitUntil'>
  requestId: string
  request?: Request
  /** Where the events come from: `app`, `webhooks`, `scheduled`, `RateLimiter`… */
  source: string
}

/**
 * 4xx answers, validation failures, refused limits and aborted requests are the caller's doing:
 * they never become events (a breadcrumb at most).
 */
export function isExpectedError(error: unknown): boolean {
  if (isDomainError(error)) return error.status < 500
  if (isRateLimited(error)) return true
  if (error instanceof Response) return error.status < 500
  // Remix's ErrorResponse (what a thrown 4xx becomes once it passed through the router).
  if (
    typeof error === 'object' &&
    error !== null &&
    'status' in error &&
    'internal' in error &&
    typeof error.status === 'number'
  )
    return error.status < 500
  // A DOMException is not always an Error subclass across runtimes: judge by name.
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'AbortError'
  )
}

// What a scrubbed copy was made from, so beforeSend can judge the original.
const originals = new WeakMap<object, unknown>()

export function createMonitor({
  env,
  release,
  context,
  requestId,
  request,
  source,
}: MonitorOptions): Monitor {
  const sentry = env.SENTRY_DSN
    ? new Toucan({
        dsn: env.SENTRY_DSN,
        environment: env.ENVIRONMENT,
        release,
        sampleRate: env.SENTRY_SAMPLE_RATE,
        context,
        request,
        // Only these headers and no query parameters reach Sentry: cookies and auth headers never
        // leave the Worker.
        requestDataOptions: {
          allowedHeaders: ['user-agent', 'cf-ray', 'content-type'],
          allowedSearchParams: /^$/,
          allowedCookies: /^$/,
        },
        beforeSend: (event, hint) => {
          const original = hint.originalException
          const judged =
            original && typeof original === 'object'
              ? (originals.get(original) ?? original)
              : original
          if (isExpectedError(judged)) return null
          return scrubEvent(event)
        },
      })
    : null
  sentry?.setTag('request_id', requestId)
  sentry?.setTag('source', source)
  // Remix hands every route whose loader failed to handleError, often with one shared error.
  const reported = new WeakSet<object>()

  return {
    captureException(error, extra = {}) {
      if (typeof error === 'object' && error !== null) {
        if (reported.has(error)) return
        reported.add(error)
      }
      // Errors carry what they were working on (a query's parameters, a URL): scrub before anyone sees it.
      const safe = scrubError(error)
      originals.set(safe, error)
      const fields = scrubDeep(extra)
      // beforeSend drops the event of an expected error; the log needs no error line for it either.
      if (!isExpectedError(error))
        writeLine('error', safe.message, {
          ...fields,
          error: safe.name,
          stack: safe.stack,
        })
      sentry?.withScope((scope) => {
        scope.setExtras(fields)
        scope.captureException(safe)
      })
    },
    captureMessage(message, level, extra = {}) {
      sentry?.withScope((scope) => {
        scope.setExtras(extra)
        scope.captureMessage(message, level)
      })
    },
    addBreadcrumb(message, level, data) {
      sentry?.addBreadcrumb({ message, level, data, category: 'log' })
    },
    setUser(id) {
      sentry?.setUser({ id })
    },
    checkIn(job, status, { checkInId, durationSeconds } = {}) {
      writeLine(status === 'error' ? 'warn' : 'info', 'cron check-in', {
        job,
        status,
        ...(durationSeconds === undefined ? {} : { durationSeconds }),
      })
      if (!sentry) return checkInId ?? crypto.randomUUID()
      return sentry.captureCheckIn({
        monitorSlug: job,
        status,
        ...(checkInId ? { checkInId } : {}),
        ...(durationSeconds === undefined ? {} : { duration: durationSeconds }),
      } as Parameters<Toucan['captureCheckIn']>[0])
    },
    captureBrowserError({ name, message, stack, url, kind }) {
      const page = pagePath(url)
      writeLine('warn', 'browser error', { name, page, kind })
      sentry?.withScope((scope) => {
        scope.setTag('source', 'browser')
        scope.setTag('page', page)
        scope.setTag('browser.event', kind)
        if (stack) scope.setExtra('stack', stack.slice(0, 4_000))
        // The request this event comes with is the report's POST; the page is what matters.
        scope.captureEvent({
          level: 'error',
          platform: 'javascript',
          transaction: page,
          exception: { values: [{ type: name, value: message }] },
        })
      })
    },
    captureBrowserMetrics({ url, vitals, video }) {
      const page = pagePath(url)
      writeLine('info', 'browser metrics', { page, vitals, video })
      sentry?.withScope((scope) => {
        scope.setTag('source', 'browser')
        scope.setTag('page', page)
        for (const vital of vitals) {
          scope.setTag(`vital.${vital.name}`, vital.rating ?? 'unrated')
        }
        scope.setContext('web_vitals', toRecord(vitals))
        if (video.length > 0) scope.setContext('video', toRecord(video))
        scope.captureEvent({
          level: 'info',
          message: 'browser metrics',
          transaction: page,
        })
      })
    },
  }
}

/** The page's path, scrubbed (no query, no ids or room codes). */
function pagePath(url: string): string {
  return new URL(scrubUrl(url)).pathname
}

function toRecord(samples: Array<{ name: string; value: number }>) {
  return Object.fromEntries(
    samples.map((sample, i) => [`${sample.name}#${i}`, sample]),
  )
}

/**
 * A Monitor for `telemetry`'s scope: its reports and breadcrumbs, its slow-work thresholds, and
 * the user it identifies all go to this one client.
 */
export function attachMonitor(
  telemetry: Telemetry,
  env: MonitoringEnv,
  options: Omit<MonitorOptions, 'env' | 'requestId'>,
): Monitor {
  const monitor = createMonitor({
    ...options,
    env,
    requestId: telemetry.requestId,
  })
  telemetry.reporter = monitor
  telemetry.thresholds = {
    slowQueryMs: env.SLOW_QUERY_MS,
    slowCallMs: env.SLOW_CALL_MS,
  }
  return monitor
}

/**
 * Runs one Durable Object call with its own monitor: an error it throws is reported once (with
 * the caller's request id, when the caller passed one) and thrown on to the caller. Use it in
 * every RPC method, fetch, webSocketMessage and alarm of a Durable Object:
 *
 *   check(key, policy, call?: DurableObjectCall) {
 *     return monitorDurableObjectCall(this.env, this.ctx, 'RateLimiter.check', call, () => …)
 *   }
 */
export interface DurableObjectCall {
  /** The request id of the Worker request that made this call (X-Request-Id). */
  requestId?: string
}

export async function monitorDurableObjectCall<T>(
  env: MonitoringEnv,
  ctx: Pick<DurableObjectState, 'waitUntil'>,
  name: string,
  call: DurableObjectCall | undefined,
  work: () => T | Promise<T>,
): Promise<T> {
  const telemetry = createTelemetry(call?.requestId ?? crypto.randomUUID())
  const monitor = attachMonitor(telemetry, env, {
    release: __BUILD_VERSION__,
    context: ctx,
    source: name,
  })
  return withTelemetry(telemetry, async () => {
    try {
      return await work()
    } catch (error) {
      monitor.captureException(error, { call: name })
      throw error
    }
  })
}
