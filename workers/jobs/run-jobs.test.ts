import { afterEach, describe, expect, test, vi } from 'vitest'
import type { Bindings } from '../bindings'
import { runJobs, type Job } from './run-jobs'

const bindings = {
  ENVIRONMENT: 'test',
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:9/unused',
  SESSION_SECRETS: 'unit-test-session-secret-000000',
  OTP_SECRET: 'unit-test-otp-secret-0000000000',
  SMS_PROVIDER: 'outbox',
} as unknown as Bindings

const ctx = {
  waitUntil() {},
  passThroughOnException() {},
  props: {},
} as unknown as ExecutionContext

function controller(cron: string) {
  return {
    cron,
    scheduledTime: Date.now(),
    noRetry() {},
  } as ScheduledController
}

function job(name: string, crons: string[], run: Job['run']): Job {
  return { name, crons, run }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('runJobs', () => {
  test('runs every job of the firing cron, even when one of them fails, then reports the failure', async () => {
    const ran: string[] = []
    const logs: string[] = []
    vi.spyOn(console, 'log').mockImplementation(
      (line: string) => void logs.push(line),
    )
    vi.spyOn(console, 'error').mockImplementation(
      (line: string) => void logs.push(line),
    )
    vi.spyOn(console, 'warn').mockImplementation(
      (line: string) => void logs.push(line),
    )
    const handler = runJobs([
      job('first', ['0 3 * * *'], async () => {
        ran.push('first')
        throw new Error('boom')
      }),
      job('second', ['0 3 * * *'], async () => {
        ran.push('second')
        return { done: 1 }
      }),
      job('hourly', ['0 * * * *'], async () => {
        ran.push('hourly')
        return {}
      }),
    ])

    await expect(
      handler(controller('0 3 * * *'), bindings, ctx),
    ).rejects.toThrow('scheduled jobs failed: first')
    expect(ran.sort()).toEqual(['first', 'second'])
    const outcomes = logs
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.job)
    expect(outcomes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'info',
          msg: 'job succeeded',
          job: 'second',
          done: 1,
        }),
        expect.objectContaining({
          level: 'error',
          msg: 'boom',
          job: 'first',
        }),
      ]),
    )
    // Every job checks in by its name: in progress, then how it ended.
    const checkIns = outcomes
      .filter((entry) => entry.msg === 'cron check-in')
      .map((entry) => `${entry.job}:${entry.status}`)
    expect(checkIns.sort()).toEqual([
      'first:error',
      'first:in_progress',
      'second:in_progress',
      'second:ok',
    ])
    // Each run has its own id on every line it writes.
    const runIds = new Set(
      outcomes.filter((entry) => entry.job === 'first').map((e) => e.requestId),
    )
    expect(runIds.size).toBe(1)
    expect([...runIds][0]).toMatch(/^[0-9a-f-]{36}$/)
  })
})
