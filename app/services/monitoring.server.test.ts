import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  test,
  vi,
} from 'vitest'
import { startFakeSentry, type FakeSentry } from '../../tests/fakes/sentry.mjs'
import { DomainError, RateLimited, Unavailable } from '../utils/errors'
import { createMonitor, type MonitorOptions } from './monitoring.server'

let sentry: FakeSentry
const pending: Promise<unknown>[] = []
const context = {
  waitUntil: (promise: Promise<unknown>) => void pending.push(promise),
}

beforeAll(async () => {
  sentry = await startFakeSentry()
})
afterAll(async () => {
  await sentry.close()
})
beforeEach(() => {
  sentry.reset()
  vi.spyOn(console, 'error').mockImplementation(() => {})
  vi.spyOn(console, 'warn').mockImplementation(() => {})
  vi.spyOn(console, 'log').mockImplementation(() => {})
})

function monitor(overrides: Partial<MonitorOptions['env']> = {}) {
  return createMonitor({
    env: {
      SENTRY_DSN: sentry.dsn,
      ENVIRONMENT: 'test',
      SENTRY_SAMPLE_RATE: 1,
      ...overrides,
    },
    release: '1.2.3+abc',
    context,
    requestId: 'req-1',
    source: 'unit',
  })
}

/** Every item that arrived once the monitor's sends have finished. */
async function sent() {
  await Promise.all(pending.splice(0))
  return sentry.items()
}

describe('createMonitor', () => {
  test('an unexpected error arrives once, with release, environment, request id and only the user id', async () => {
    const m = monitor()
    m.setUser('user-42')
    m.addBreadcrumb('loaded the room', 'info', { phone: '+15550004444' })
    m.captureException(new Error('database refused +15550004444'), {
      path: '/s/VIBE-2K4F',
    })
    const items = await sent()
    expect(items).toHaveLength(1)
    const event = items[0]!.payload
    expect(event.release).toBe('1.2.3+abc')
    expect(event.environment).toBe('test')
    expect(event.tags).toMatchObject({ request_id: 'req-1', source: 'unit' })
    expect(event.user).toEqual({ id: 'user-42' })
    expect(event.exception.values[0].value).toContain('database refused')
    expect(JSON.stringify(items)).not.toContain('0004444')
    expect(JSON.stringify(items)).not.toContain('VIBE-2K4F')
  })

  test('expected errors (4xx, refused limits, thrown 4xx responses, aborts) send nothing; a 503 does', async () => {
    const m = monitor()
    m.captureException(new DomainError('invalid_phone', 'Bad phone', 400))
    m.captureException(new DomainError('not_found', 'No such session', 404))
    m.captureException(
      new RateLimited(
        'tip',
        30,
        {
          allowed: false,
          limit: 1,
          remaining: 0,
          retryAfter: 30,
          resetAfter: 30,
        },
        60,
      ),
    )
    m.captureException(new Response('Not Found', { status: 404 }))
    m.captureException(
      new DOMException('The operation was aborted', 'AbortError'),
    )
    expect(await sent()).toEqual([])
    m.captureException(new Unavailable('100ms'))
    expect(await sent()).toHaveLength(1)
  })

  test('a sample rate of 0 sends no error events', async () => {
    monitor({ SENTRY_SAMPLE_RATE: 0 }).captureException(new Error('boom'))
    expect(await sent()).toEqual([])
  })

  test('check-ins: in progress, then the outcome under the same id', async () => {
    const m = monitor()
    const id = m.checkIn('nightly-backup', 'in_progress')
    m.checkIn('nightly-backup', 'ok', { checkInId: id, durationSeconds: 2 })
    const checkIns = (await sent()).map((item) => item.payload)
    expect(checkIns).toEqual([
      expect.objectContaining({
        check_in_id: id,
        monitor_slug: 'nightly-backup',
        status: 'in_progress',
        release: '1.2.3+abc',
        environment: 'test',
      }),
      expect.objectContaining({
        check_in_id: id,
        status: 'ok',
        duration: 2,
      }),
    ])
  })

  test('without a DSN nothing is sent and errors are still logged', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'error').mockImplementation(
      (line: string) => void lines.push(line),
    )
    monitor({ SENTRY_DSN: undefined }).captureException(
      new Error('boom for +15550005555'),
    )
    expect(await sent()).toEqual([])
    // The log line is scrubbed like the event would have been.
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      msg: 'boom for +1555*****55',
    })
    expect(lines.join('\n')).not.toContain('0005555')
  })
})
