import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { RateLimitDecision } from '../../app/services/sliding-window'
import { startWorkers, type RunningWorkers } from '../support/workers'

interface LimiterStub {
  check(
    key: string,
    policy: { limit: number; periodSeconds: number },
  ): Promise<RateLimitDecision>
  reset(key: string): Promise<void>
  ping(): Promise<string>
}

let workers: RunningWorkers

beforeAll(async () => {
  // The limiter needs no database; the variable only has to be well formed.
  workers = await startWorkers({
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:9/unused',
  })
})

afterAll(async () => {
  await workers?.dispose()
})

async function limiterFor(key: string): Promise<LimiterStub> {
  const namespace = await workers.mf.getDurableObjectNamespace(
    'RATE_LIMITER',
    'app',
  )
  return namespace.get(namespace.idFromName(key)) as unknown as LimiterStub
}

describe('the RateLimiter Durable Object', () => {
  test('allows exactly `limit` of 50 concurrent calls and refuses the rest with a Retry-After', async () => {
    const key = 'test:concurrent'
    const decisions = await Promise.all(
      Array.from({ length: 50 }, async () =>
        (await limiterFor(key)).check(key, { limit: 7, periodSeconds: 3600 }),
      ),
    )
    const allowed = decisions.filter((d) => d.allowed)
    expect(allowed).toHaveLength(7)
    expect(allowed.map((d) => d.remaining).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ])
    for (const refused of decisions.filter((d) => !d.allowed)) {
      expect(refused.remaining).toBe(0)
      // The first slot frees when the oldest of the seven leaves the hour-long window.
      expect(refused.retryAfter).toBeGreaterThan(3590)
      expect(refused.retryAfter).toBeLessThanOrEqual(3600)
    }
  })

  test('keys are independent', async () => {
    const a = await limiterFor('test:a')
    const b = await limiterFor('test:b')
    expect(
      (await a.check('test:a', { limit: 1, periodSeconds: 60 })).allowed,
    ).toBe(true)
    expect(
      (await a.check('test:a', { limit: 1, periodSeconds: 60 })).allowed,
    ).toBe(false)
    expect(
      (await b.check('test:b', { limit: 1, periodSeconds: 60 })).allowed,
    ).toBe(true)
  })

  test('reset forgets a key', async () => {
    const key = 'test:reset'
    const limiter = await limiterFor(key)
    await limiter.check(key, { limit: 1, periodSeconds: 60 })
    expect(
      (await limiter.check(key, { limit: 1, periodSeconds: 60 })).allowed,
    ).toBe(false)
    await limiter.reset(key)
    expect(
      (await limiter.check(key, { limit: 1, periodSeconds: 60 })).allowed,
    ).toBe(true)
  })

  test('the health check reaches the limiter', async () => {
    expect(await (await limiterFor('health')).ping()).toBe('pong')
  })
})
