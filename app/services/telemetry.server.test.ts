import { afterEach, describe, expect, test, vi } from 'vitest'
import {
  createTelemetry,
  identifyUser,
  log,
  measure,
  serverTiming,
  startTiming,
  withTelemetry,
  type Reporter,
} from './telemetry.server'

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

function recordingReporter() {
  const calls: string[] = []
  const reporter: Reporter = {
    captureException: () => void calls.push('exception'),
    captureMessage: (message, level) => void calls.push(`${level}:${message}`),
    addBreadcrumb: (message) => void calls.push(`breadcrumb:${message}`),
    setUser: (id) => void calls.push(`user:${id}`),
  }
  return { calls, reporter }
}

describe('the telemetry scope', () => {
  test('every line carries the request id; info is a breadcrumb, warn and error are reported', () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation(
      (l: string) => void lines.push(l),
    )
    vi.spyOn(console, 'warn').mockImplementation(
      (l: string) => void lines.push(l),
    )
    vi.spyOn(console, 'error').mockImplementation(
      (l: string) => void lines.push(l),
    )
    const { calls, reporter } = recordingReporter()
    const telemetry = createTelemetry('req-7')
    telemetry.reporter = reporter
    withTelemetry(telemetry, () => {
      log('info', 'loaded')
      log('warn', 'slowish')
      log('error', 'broken')
      identifyUser('user-1')
    })
    log('info', 'outside any request')
    expect(lines.map((l) => JSON.parse(l).requestId)).toEqual([
      'req-7',
      'req-7',
      'req-7',
      undefined,
    ])
    expect(calls).toEqual([
      'breadcrumb:loaded',
      'warning:slowish',
      'error:broken',
      'user:user-1',
    ])
  })

  test('overlapping work counts once in the total; each kind gets its entry', async () => {
    let clock = 0
    vi.spyOn(performance, 'now').mockImplementation(() => clock)
    const telemetry = createTelemetry('req-8')
    await withTelemetry(telemetry, async () => {
      const first = startTiming('db', 'select 1')
      clock = 10
      const second = startTiming('db', 'select 2')
      clock = 30
      first()
      clock = 40
      second()
      await measure('hms', 'createRoom', async () => {
        clock = 140
      })
    })
    expect(serverTiming(telemetry, 150)).toBe(
      'db;dur=40;desc="database, 2 queries", hms;dur=100;desc="100ms", total;dur=150',
    )
  })

  test('work slower than its threshold is a warning naming it, in its own request', async () => {
    let clock = 0
    vi.spyOn(performance, 'now').mockImplementation(() => clock)
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { calls, reporter } = recordingReporter()
    const telemetry = createTelemetry('req-9')
    telemetry.reporter = reporter
    telemetry.thresholds = { slowQueryMs: 50, slowCallMs: 1_000 }
    const end = withTelemetry(telemetry, () =>
      startTiming('db', 'select pg_sleep(1)'),
    )
    clock = 49
    end()
    const again = withTelemetry(telemetry, () =>
      startTiming('db', 'select pg_sleep(1)'),
    )
    clock = 200
    again()
    expect(calls).toEqual(['warning:slow query'])
  })
})
