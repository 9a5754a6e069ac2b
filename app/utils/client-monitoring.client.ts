import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals'

/**
 * The browser's reporter: uncaught errors, unhandled rejections, Web Vitals and (from the room)
 * video samples, batched for a second and sent with sendBeacon to POST /api/monitoring/client,
 * which forwards them to Sentry. It never blocks a page: entry.client.tsx loads it once the
 * browser is idle, and a beacon is handed to the browser, which sends it even as the page goes.
 */
const ENDPOINT = '/api/monitoring/client'
const BATCH_MS = 1_000
// A page stuck in an error loop must not flood the endpoint (which limits per network as well).
const MAX_ERRORS_PER_PAGE = 10

interface Batch {
  errors: Array<{
    kind: 'error' | 'unhandledrejection'
    name: string
    message: string
    stack?: string
  }>
  vitals: Array<{ name: string; value: number; rating?: string }>
  video: Array<{ name: 'join' | 'reconnect' | 'quality'; value: number }>
}

let batch: Batch = { errors: [], vitals: [], video: [] }
let timer: ReturnType<typeof setTimeout> | undefined
let errorsReported = 0
let started = false

/** A video sample from the room: join time (ms), a reconnect (1), a connection quality (0–5). */
export function reportVideo(
  name: Batch['video'][number]['name'],
  value: number,
) {
  batch.video.push({ name, value: Math.round(value) })
  schedule()
}

export function reportError(
  reason: unknown,
  kind: 'error' | 'unhandledrejection',
) {
  if (errorsReported >= MAX_ERRORS_PER_PAGE) return
  errorsReported += 1
  const error =
    reason instanceof Error ? reason : new Error(String(reason ?? 'unknown'))
  batch.errors.push({
    kind,
    name: error.name.slice(0, 200),
    message: error.message.slice(0, 1_000),
    stack: error.stack?.slice(0, 4_000),
  })
  schedule()
}

/** Starts listening; `early` holds what happened before this module loaded. */
export function startClientMonitoring(early: Event[] = []) {
  if (started) return
  started = true
  const onEvent = (event: Event) => {
    if (event.type === 'unhandledrejection')
      reportError((event as PromiseRejectionEvent).reason, 'unhandledrejection')
    else {
      const { error, message } = event as ErrorEvent
      reportError(error ?? message, 'error')
    }
  }
  early.forEach(onEvent)
  addEventListener('error', onEvent)
  addEventListener('unhandledrejection', onEvent)
  const vital = ({ name, value, rating }: Metric) => {
    batch.vitals.push({ name, value: Math.round(value * 1000) / 1000, rating })
    schedule()
  }
  onTTFB(vital)
  onFCP(vital)
  onLCP(vital)
  onINP(vital)
  onCLS(vital)
  // LCP, INP and CLS are final only when the page is hidden: send what is left then.
  addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush()
  })
  addEventListener('pagehide', flush)
}

function schedule() {
  timer ??= setTimeout(flush, BATCH_MS)
}

function flush() {
  clearTimeout(timer)
  timer = undefined
  if (!batch.errors.length && !batch.vitals.length && !batch.video.length)
    return
  const body = JSON.stringify({ page: location.pathname, ...batch })
  batch = { errors: [], vitals: [], video: [] }
  try {
    if (
      navigator.sendBeacon(
        ENDPOINT,
        new Blob([body], { type: 'application/json' }),
      )
    )
      return
  } catch {
    // An older browser refuses a JSON beacon; a keepalive fetch does the same job.
  }
  void fetch(ENDPOINT, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json' },
    keepalive: true,
  }).catch(() => {})
}
