import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * What one request, scheduled run or Durable Object call knows about itself while it runs: its
 * id, its monitor (set once the configuration is read) and its timings. It follows the work
 * through every await (AsyncLocalStorage), so `log()` deep in a model carries the request id and
 * becomes a breadcrumb or a report without every function taking a logger (ADR 017).
 */
export interface Reporter {
  captureException(error: unknown, extra?: Record<string, unknown>): void
  captureMessage(
    message: string,
    level: 'warning' | 'error',
    extra?: Record<string, unknown>,
  ): void
  addBreadcrumb(
    message: string,
    level: 'info' | 'debug',
    data?: Record<string, unknown>,
  ): void
  setUser(id: string): void
}

export type TimedService = 'db' | 'hms' | 'sms'
type TimingName = TimedService | 'render'

export interface Thresholds {
  slowQueryMs: number
  slowCallMs: number
}

export interface Telemetry {
  readonly requestId: string
  reporter?: Reporter
  thresholds: Thresholds
  /** Per name: total ms with work in flight (overlaps counted once), and how many operations. */
  readonly timings: Map<TimingName, { ms: number; count: number }>
  readonly inFlight: Map<TimedService, { count: number; since: number }>
}

const DEFAULT_THRESHOLDS: Thresholds = { slowQueryMs: 500, slowCallMs: 3_000 }

// The app Worker bundles this module twice (inside the Remix server build and for the Worker's
// own wiring): both copies must read the one store, so it hangs off the global registry.
const STORAGE = Symbol.for('kulti.telemetry')
const storage = ((globalThis as Record<symbol, unknown>)[STORAGE] ??=
  new AsyncLocalStorage<Telemetry>()) as AsyncLocalStorage<Telemetry>

export function createTelemetry(requestId: string): Telemetry {
  return {
    requestId,
    thresholds: { ...DEFAULT_THRESHOLDS },
    timings: new Map(),
    inFlight: new Map(),
  }
}

/** Runs `work` with `telemetry` as the current scope. */
export function withTelemetry<T>(telemetry: Telemetry, work: () => T): T {
  return storage.run(telemetry, work)
}

export function currentTelemetry(): Telemetry | undefined {
  return storage.getStore()
}

type Level = 'debug' | 'info' | 'warn' | 'error'

/**
 * One structured JSON line (what Workers Logs and `wrangler tail` index), with the request id.
 * info and debug become breadcrumbs of the current scope's next report; warn and error are
 * reported themselves. Fields must already be safe to keep: they are scrubbed again on the way
 * to Sentry, never in the log.
 */
export function log(
  level: Level,
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  const telemetry = currentTelemetry()
  writeLine(level, msg, fields)
  const reporter = telemetry?.reporter
  if (!reporter) return
  if (level === 'warn' || level === 'error')
    reporter.captureMessage(msg, level === 'warn' ? 'warning' : 'error', fields)
  else reporter.addBreadcrumb(msg, level, fields)
}

/** The line alone, for the reporter's own lines (which must not report themselves again). */
export function writeLine(
  level: Level,
  msg: string,
  fields: Record<string, unknown>,
): void {
  const requestId = currentTelemetry()?.requestId
  const line = JSON.stringify({
    level,
    msg,
    time: new Date().toISOString(),
    ...(requestId ? { requestId } : {}),
    ...fields,
  })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

/** Marks the current scope's events with the signed-in user's id (never more: SPEC §7). */
export function identifyUser(userId: string): void {
  currentTelemetry()?.reporter?.setUser(userId)
}

/**
 * Starts timing one operation of `service` in the current scope; call the returned function when
 * it ends. Overlapping operations count once in the total, so `db` reads as the time the request
 * spent waiting on the database. Slower than the threshold: a warning naming `what`.
 */
export function startTiming(service: TimedService, what: string): () => void {
  const telemetry = currentTelemetry()
  if (!telemetry) return () => {}
  const started = now()
  const flight = telemetry.inFlight.get(service) ?? { count: 0, since: 0 }
  if (flight.count === 0) flight.since = started
  flight.count += 1
  telemetry.inFlight.set(service, flight)
  let ended = false
  return () => {
    if (ended) return
    ended = true
    const ending = now()
    flight.count -= 1
    const total = telemetry.timings.get(service) ?? { ms: 0, count: 0 }
    total.count += 1
    if (flight.count === 0) total.ms += ending - flight.since
    telemetry.timings.set(service, total)
    const threshold =
      service === 'db'
        ? telemetry.thresholds.slowQueryMs
        : telemetry.thresholds.slowCallMs
    const durationMs = Math.round(ending - started)
    if (durationMs > threshold) {
      const fields = {
        service,
        operation: what,
        durationMs,
        thresholdMs: threshold,
      }
      const msg = service === 'db' ? 'slow query' : `slow ${service} call`
      // Inside the scope that started it, so the warning carries its request id. Every slow
      // operation is a log line; only the first of its kind in a while is also an event.
      withTelemetry(telemetry, () =>
        isFirstSlowReport(`${service} ${what}`)
          ? log('warn', msg, fields)
          : writeLine('warn', msg, fields),
      )
    }
  }
}

/**
 * Under load one slow statement is slow for everyone at once: a warning event per request would
 * spend the Sentry quota on one fact. Per isolate, an operation is reported at most once a minute.
 */
const SLOW_REPORT_INTERVAL_MS = 60_000
// On the global registry for the same reason as the store: this module is bundled twice.
const SLOW_REPORTS = Symbol.for('kulti.slow-reports')

function isFirstSlowReport(operation: string): boolean {
  const registry = globalThis as { [SLOW_REPORTS]?: Map<string, number> }
  const reported = (registry[SLOW_REPORTS] ??= new Map())
  const at = Date.now()
  const last = reported.get(operation)
  if (last !== undefined && at - last < SLOW_REPORT_INTERVAL_MS) return false
  // Statements are few; the bound only guards against an unbounded variety of them.
  if (reported.size >= 1_000) reported.clear()
  reported.set(operation, at)
  return true
}

/** `work`, timed as one operation of `service` (a 100ms call, a text message). */
export async function measure<T>(
  service: TimedService,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  const done = startTiming(service, what)
  try {
    return await work()
  } finally {
    done()
  }
}

/** Adds `ms` to the current scope's `name` timing (work measured elsewhere: the render). */
export function recordTiming(name: TimingName, ms: number): void {
  const telemetry = currentTelemetry()
  if (!telemetry) return
  const total = telemetry.timings.get(name) ?? { ms: 0, count: 0 }
  total.ms += ms
  total.count += 1
  telemetry.timings.set(name, total)
}

const DESCRIPTIONS: Record<TimingName, string> = {
  db: 'database',
  hms: '100ms',
  sms: 'SMS',
  render: 'React render',
}

/**
 * The `Server-Timing` value: one entry per service the request used, then `total`. Durations in
 * ms; a Worker's clock moves only across I/O, so CPU-only work (the render) often reads 0.
 */
export function serverTiming(telemetry: Telemetry, totalMs: number): string {
  const entries = [...telemetry.timings].map(([name, { ms, count }]) => {
    const label =
      name === 'db' ? `${count} ${count === 1 ? 'query' : 'queries'}` : null
    return `${name};dur=${round(ms)};desc="${DESCRIPTIONS[name]}${label ? `, ${label}` : ''}"`
  })
  return [...entries, `total;dur=${round(totalMs)}`].join(', ')
}

export const now = () => performance.now()

const round = (ms: number) => Math.round(ms * 10) / 10
