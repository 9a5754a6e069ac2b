import { describe, expect, test } from 'vitest'
import { gcra } from './gcra'

const THREE_PER_TEN_MINUTES = { limit: 3, periodSeconds: 600 }
const NOW = 1_700_000_000_000

/** Plays `count` requests at `atMs` against one key, carrying the stored TAT like the DO does. */
function play(count: number, atMs: number, startTat: number | null = null) {
  let tat = startTat
  const decisions = []
  for (let i = 0; i < count; i++) {
    const decision = gcra(tat, atMs, THREE_PER_TEN_MINUTES)
    if (decision.allowed) tat = decision.tatMs
    decisions.push(decision)
  }
  return { decisions, tat }
}

describe('gcra', () => {
  test('allows exactly `limit` requests in a burst, then refuses', () => {
    const { decisions } = play(5, NOW)
    expect(decisions.map((d) => d.allowed)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ])
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0, 0])
  })

  test('a refusal says exactly when the next request is allowed', () => {
    const { decisions, tat } = play(4, NOW)
    const refused = decisions[3]!
    // One slot frees every 200 s (600 s / 3).
    expect(refused.retryAfter).toBe(200)
    expect(gcra(tat, NOW + 199_000, THREE_PER_TEN_MINUTES).allowed).toBe(false)
    expect(gcra(tat, NOW + 200_000, THREE_PER_TEN_MINUTES).allowed).toBe(true)
  })

  test('a refused request does not push the window further out', () => {
    const { tat } = play(3, NOW)
    const refusedTwice = [
      gcra(tat, NOW + 1000, THREE_PER_TEN_MINUTES),
      gcra(tat, NOW + 2000, THREE_PER_TEN_MINUTES),
    ]
    expect(refusedTwice.every((d) => !d.allowed)).toBe(true)
    expect(gcra(tat, NOW + 200_000, THREE_PER_TEN_MINUTES).allowed).toBe(true)
  })

  test('after a full period everything is available again', () => {
    const { tat } = play(3, NOW)
    expect(gcra(tat, NOW + 600_000, THREE_PER_TEN_MINUTES).remaining).toBe(2)
  })

  test('cost consumes several units at once', () => {
    const decision = gcra(null, NOW, { limit: 10, periodSeconds: 60, cost: 4 })
    expect(decision.allowed).toBe(true)
    expect(decision.remaining).toBe(6)
    expect(
      gcra(null, NOW, { limit: 10, periodSeconds: 60, cost: 11 }).allowed,
    ).toBe(false)
  })
})
