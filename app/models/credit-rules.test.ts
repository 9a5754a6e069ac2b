import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  coveredMinutes,
  CREDIT_RULES,
  hostEarning,
  watcherEarning,
} from './credit-rules'

// The earning rules of SPEC §3 as properties: fast-check tries hundreds of inputs per rule and
// shrinks a failure to the smallest one (rerun it with the printed seed).

const MINUTE = 60_000
const role = fc.constantFrom('viewer' as const, 'presenter' as const)
// Watch time as 100ms reports it can be anything from nothing to days, in fractions of a minute.
const minutes = fc.double({ min: 0, max: 10_000, noNaN: true })
const wholeMinutes = fc.integer({ min: 0, max: 10_000 })
const hostInput = fc.record({
  hostedMinutes: minutes,
  viewerMinutes: fc.double({ min: 0, max: 1_000_000, noNaN: true }),
  sessionMinutes: minutes,
})
const base = ({
  hostedMinutes,
  viewerMinutes,
}: {
  hostedMinutes: number
  viewerMinutes: number
}) =>
  Math.floor(hostedMinutes) * CREDIT_RULES.hostPerMinute +
  Math.floor(viewerMinutes) * CREDIT_RULES.hostPerViewerMinute

describe('watchers', () => {
  test('a viewer earns at most 240 a session, a presenter at most 360', () => {
    fc.assert(
      fc.property(minutes, (m) => {
        expect(watcherEarning(m, 'viewer').amount).toBeLessThanOrEqual(240)
        expect(watcherEarning(m, 'presenter').amount).toBeLessThanOrEqual(360)
      }),
    )
    expect(watcherEarning(1e9, 'viewer').amount).toBe(240)
    expect(watcherEarning(1e9, 'presenter').amount).toBe(360)
  })

  test('a viewer earns 1 per full minute, never less than nothing', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (m) => {
        const { amount } = watcherEarning(m, 'viewer')
        expect(amount).toBe(Math.min(Math.max(0, Math.floor(m)), 240))
        expect(Number.isInteger(amount)).toBe(true)
      }),
    )
  })

  test('more watch time never earns less', () => {
    fc.assert(
      fc.property(role, minutes, minutes, (r, a, b) => {
        const [less, more] = a <= b ? [a, b] : [b, a]
        expect(watcherEarning(more, r).amount).toBeGreaterThanOrEqual(
          watcherEarning(less, r).amount,
        )
      }),
    )
  })

  test('a presenter earns floor(the viewer’s paid minutes × 1.5)', () => {
    fc.assert(
      fc.property(minutes, (m) => {
        const viewer = watcherEarning(m, 'viewer')
        expect(viewer.amount).toBe(viewer.metadata.paidMinutes)
        expect(watcherEarning(m, 'presenter').amount).toBe(
          Math.floor((viewer.metadata.paidMinutes as number) * 1.5),
        )
      }),
    )
    // The odd minute rounds down: 3 minutes are 4 credits, not 4.5.
    expect(watcherEarning(3, 'presenter').amount).toBe(4)
  })
})

describe('hosts', () => {
  test('a host earns at most 10,000 a session', () => {
    fc.assert(
      fc.property(hostInput, (input) => {
        expect(hostEarning(input).amount).toBeLessThanOrEqual(10_000)
      }),
    )
    expect(
      hostEarning({
        hostedMinutes: 1e6,
        viewerMinutes: 1e9,
        sessionMinutes: 1e6,
      }).amount,
    ).toBe(10_000)
  })

  test('more hosting, more viewer-minutes or a longer session never earn less', () => {
    fc.assert(
      fc.property(
        hostInput,
        fc.constantFrom('hostedMinutes', 'viewerMinutes', 'sessionMinutes'),
        fc.double({ min: 0, max: 10_000, noNaN: true }),
        (input, field, extra) => {
          const more = { ...input, [field]: input[field] + extra }
          expect(hostEarning(more).amount).toBeGreaterThanOrEqual(
            hostEarning(input).amount,
          )
        },
      ),
    )
  })

  test('5 a minute hosted + 2 per viewer-minute, ×2 from 30 minutes on, capped', () => {
    fc.assert(
      fc.property(hostInput, (input) => {
        const multiplier = input.sessionMinutes >= 30 ? 2 : 1
        expect(hostEarning(input).amount).toBe(
          Math.min(base(input) * multiplier, 10_000),
        )
      }),
    )
  })

  test('the ×2 starts exactly at 30 minutes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 2_000 }),
        (hostedMinutes, viewerMinutes) => {
          const at = (sessionMinutes: number) =>
            hostEarning({ hostedMinutes, viewerMinutes, sessionMinutes })
          const paid = base({ hostedMinutes, viewerMinutes })
          // A session's length is measured in milliseconds: one short of 30 minutes is not 30.
          expect(at(30).amount).toBe(Math.min(2 * paid, 10_000))
          expect(at(30).metadata.multiplier).toBe(2)
          expect(at((30 * MINUTE - 1) / MINUTE).amount).toBe(
            Math.min(paid, 10_000),
          )
          expect(at((30 * MINUTE - 1) / MINUTE).metadata.multiplier).toBe(1)
          expect(at(30 + 1 / MINUTE).amount).toBe(at(30).amount)
        },
      ),
    )
  })
})

describe('covered minutes', () => {
  // Interval ends on a whole-second grid over two hours, so a bitmap of seconds is an independent
  // reference for the union's length.
  const SPAN_SECONDS = 2 * 60 * 60
  const second = fc.integer({ min: -600, max: SPAN_SECONDS + 600 })
  const interval = fc
    .tuple(second, second)
    .map(([a, b]) => [a * 1000, b * 1000] as const)
  const intervals = fc.array(interval, { maxLength: 12 })
  const window = fc
    .tuple(
      fc.integer({ min: 0, max: SPAN_SECONDS }),
      fc.integer({ min: 0, max: SPAN_SECONDS }),
    )
    .map(([a, b]) => (a <= b ? [a * 1000, b * 1000] : [b * 1000, a * 1000]))

  function unionSeconds(
    list: ReadonlyArray<readonly [number, number]>,
    from: number,
    to: number,
  ): number {
    const covered = new Set<number>()
    for (const [a, b] of list)
      for (let s = Math.max(a, from); s < Math.min(b, to); s += 1000)
        covered.add(s)
    return covered.size
  }

  test('equal the whole minutes of the union of the intervals clipped to [from, to]', () => {
    fc.assert(
      fc.property(intervals, window, (list, [from, to]) => {
        expect(coveredMinutes(list, from!, to!)).toBe(
          Math.floor((unionSeconds(list, from!, to!) * 1000) / MINUTE),
        )
      }),
    )
  })

  test('never exceed the session’s length (overlaps count once)', () => {
    fc.assert(
      fc.property(intervals, window, (list, [from, to]) => {
        const doubled = [...list, ...list] // a person in two tabs watches once
        expect(coveredMinutes(doubled, from!, to!)).toBeLessThanOrEqual(
          Math.floor((to! - from!) / MINUTE),
        )
        expect(coveredMinutes(doubled, from!, to!)).toBe(
          coveredMinutes(list, from!, to!),
        )
      }),
    )
  })

  test('do not depend on the order of the intervals, and more intervals never cover less', () => {
    const anyMs = fc.integer({ min: 0, max: 4 * 60 * MINUTE })
    const msIntervals = fc.array(fc.tuple(anyMs, anyMs), { maxLength: 12 })
    fc.assert(
      fc.property(
        msIntervals,
        fc.tuple(anyMs, anyMs),
        anyMs,
        anyMs,
        (list, extra, a, b) => {
          const [from, to] = a <= b ? [a, b] : [b, a]
          const covered = coveredMinutes(list, from, to)
          expect(coveredMinutes([...list].reverse(), from, to)).toBe(covered)
          expect(
            coveredMinutes([...list, extra], from, to),
          ).toBeGreaterThanOrEqual(covered)
          expect(covered).toBeLessThanOrEqual(Math.floor((to - from) / MINUTE))
        },
      ),
    )
  })

  test('examples: a gap is not paid, a partial minute is not paid, outside the session is not paid', () => {
    const at = (m: number) => m * MINUTE
    expect(
      coveredMinutes(
        [
          [at(0), at(10)],
          [at(5), at(12)],
          [at(20), at(25.5)],
        ],
        at(0),
        at(60),
      ),
    ).toBe(17) // 12 + 5.5
    expect(coveredMinutes([[at(-10), at(70)]], at(0), at(60))).toBe(60)
    expect(coveredMinutes([[at(61), at(70)]], at(0), at(60))).toBe(0)
    expect(coveredMinutes([], at(0), at(60))).toBe(0)
  })
})
