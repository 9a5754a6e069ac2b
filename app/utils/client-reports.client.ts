/**
 * The browser's report queue: errors, Web Vitals and (from the room) video samples, batched for a
 * second and sent with sendBeacon to POST /api/monitoring/client, which forwards them to Sentry.
 * A beacon is handed to the browser, which sends it even as the page goes. Kept apart from the
 * listeners and web-vitals (client-monitoring.client.ts) so the room's video code can report
 * through it for a few hundred bytes.
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

/** A video sample from the room: join time (ms), a reconnect (1), a connection quality (0–5). */
export function reportVideo(
  name: Batch['video'][number]['name'],
  value: number,
) {
  batch.video.push({ name, value: Math.round(value) })
  schedule()
}

export function reportVital(vital: Batch['vitals'][number]) {
  batch.vitals.push(vital)
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

function schedule() {
  timer ??= setTimeout(flush, BATCH_MS)
}

/** Sends what is queued now (the page is being hidden). */
export function flush() {
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
