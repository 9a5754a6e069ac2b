import { describe, expect, test } from 'vitest'
import { slidingWindow, type RateLimitPolicy } from './sliding-window'

const THREE_PER_TEN_MINUTES = { limit: 3, periodSeconds: 600 }
const NOW = 1_700_000_000_000
const SECOND = 1000

/** Plays requests at the given offsets (seconds) against one key, storing state like the DO does. */
function play(
  offsets: number[],
  policy: RateLimitPolicy = THREE_PER_TEN_MINUTES,
) {
  let expiries: number[] = []
  return offsets.map((offset) => {
    const decision = slidingWindow(expiries, NOW + offset * SECOND, policy)
    expiries = decision.expiries
    return decision
  })
}

describe('slidingWindow', () => {
  test('allows exactly `limit` requests in a burst, then refuses', () => {
    const decisions = play([0, 0, 0, 0, 0])
    expect(decisions.map((d) => d.allowed)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ])
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0, 0])
  })

  test('never more than `limit` in any window, however the requests are spread', () => {
    // Three early, then one every 100 s: nothing more until the first three leave the window.
    const decisions = play([
      0, 1, 2, 100, 200, 300, 400, 500, 599, 600, 601, 602, 603,
    ])
    expect(decisions.map((d) => d.allowed)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      false,
    ])
  })

  test('a refusal says exactly when the next request fits', () => {
    const [, , , refused] = play([0, 10, 20, 30])
    // The oldest request (t=0) leaves the window at t=600, 570 s after the refusal at t=30.
    expect(refused!.retryAfter).toBe(570)
  })

  test('refused requests do not push the window further out', () => {
    const decisions = play([0, 0, 0, 100, 200, 300, 600])
    expect(decisions.at(-1)!.allowed).toBe(true)
  })

  test('ten a day means ten in any 24 hours', () => {
    const day = { limit: 10, periodSeconds: 86_400 }
    const hourly = Array.from({ length: 24 }, (_, hour) => hour * 3600)
    expect(play(hourly, day).filter((d) => d.allowed)).toHaveLength(10)
  })

  test('cost consumes several units at once', () => {
    const decision = slidingWindow([], NOW, {
      limit: 10,
      periodSeconds: 60,
      cost: 4,
    })
    expect(decision.allowed).toBe(true)
    expect(decision.remaining).toBe(6)
    expect(decision.expiries).toHaveLength(4)
    expect(
      slidingWindow([], NOW, { limit: 10, periodSeconds: 60, cost: 11 })
        .allowed,
    ).toBe(false)
  })

  test('resetAfter is when the last remembered request leaves the window', () => {
    const [first, second] = play([0, 100])
    expect(first!.resetAfter).toBe(600)
    expect(second!.resetAfter).toBe(600)
  })
})
