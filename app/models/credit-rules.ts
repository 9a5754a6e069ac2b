/**
 * What watching and hosting earn (SPEC §3), as pure functions of watch time so the rules can be
 * tested as properties. Minutes are whole minutes: only full minutes earn.
 */
export const CREDIT_RULES = {
  viewerPerMinute: 1,
  viewerCapMinutes: 240,
  presenterMultiplier: 1.5,
  hostPerMinute: 5,
  hostPerViewerMinute: 2,
  longSessionMinutes: 30,
  longSessionMultiplier: 2,
  hostCap: 10_000,
  welcomeBonus: 100,
  boostCost: 500,
  boostHours: 24,
} as const

export interface Earning {
  amount: number
  /** How the amount was computed, kept on the ledger row. */
  metadata: Record<string, number | boolean | string>
}

/** A viewer's (or, ×1.5, a presenter's) pay for `minutes` watched: 1 a minute, at most 240 minutes. */
export function watcherEarning(
  minutes: number,
  role: 'viewer' | 'presenter',
): Earning {
  const fullMinutes = Math.max(0, Math.floor(minutes))
  const paidMinutes = Math.min(fullMinutes, CREDIT_RULES.viewerCapMinutes)
  const multiplier = role === 'presenter' ? CREDIT_RULES.presenterMultiplier : 1
  return {
    amount: Math.floor(paidMinutes * CREDIT_RULES.viewerPerMinute * multiplier),
    metadata: {
      minutes: fullMinutes,
      paidMinutes,
      multiplier,
      capApplied: paidMinutes < fullMinutes,
    },
  }
}

/**
 * The host's pay: 5 a minute hosted plus 2 per viewer-minute (average concurrent viewers × minutes,
 * which is the viewers' minutes added up), doubled when the session lasted 30 minutes or more,
 * at most 10,000.
 */
export function hostEarning({
  hostedMinutes,
  viewerMinutes,
  sessionMinutes,
}: {
  hostedMinutes: number
  viewerMinutes: number
  sessionMinutes: number
}): Earning {
  const hosted = Math.max(0, Math.floor(hostedMinutes))
  const viewed = Math.max(0, Math.floor(viewerMinutes))
  const multiplier =
    sessionMinutes >= CREDIT_RULES.longSessionMinutes
      ? CREDIT_RULES.longSessionMultiplier
      : 1
  const uncapped =
    (hosted * CREDIT_RULES.hostPerMinute +
      viewed * CREDIT_RULES.hostPerViewerMinute) *
    multiplier
  const amount = Math.min(uncapped, CREDIT_RULES.hostCap)
  return {
    amount,
    metadata: {
      minutes: hosted,
      viewerMinutes: viewed,
      sessionMinutes: Math.floor(sessionMinutes),
      multiplier,
      capApplied: amount < uncapped,
    },
  }
}

/** Milestones (SPEC §3): one-time bonuses, each reached once per user. */
export const MILESTONES = [
  {
    name: 'first-watch',
    label: 'First session watched',
    kind: 'sessionsWatched',
    threshold: 1,
    bonus: 100,
  },
  {
    name: 'watch-10',
    label: '10 sessions watched',
    kind: 'sessionsWatched',
    threshold: 10,
    bonus: 500,
  },
  {
    name: 'watch-50',
    label: '50 sessions watched',
    kind: 'sessionsWatched',
    threshold: 50,
    bonus: 2_500,
  },
  {
    name: 'watch-100',
    label: '100 sessions watched',
    kind: 'sessionsWatched',
    threshold: 100,
    bonus: 10_000,
  },
  {
    name: 'watch-10h',
    label: '10 hours watched',
    kind: 'minutesWatched',
    threshold: 600,
    bonus: 1_000,
  },
  {
    name: 'watch-50h',
    label: '50 hours watched',
    kind: 'minutesWatched',
    threshold: 3_000,
    bonus: 5_000,
  },
  {
    name: 'watch-100h',
    label: '100 hours watched',
    kind: 'minutesWatched',
    threshold: 6_000,
    bonus: 15_000,
  },
  {
    name: 'first-host',
    label: 'First session hosted',
    kind: 'sessionsHosted',
    threshold: 1,
    bonus: 200,
  },
  {
    name: 'host-10',
    label: '10 sessions hosted',
    kind: 'sessionsHosted',
    threshold: 10,
    bonus: 1_000,
  },
  {
    name: 'host-50',
    label: '50 sessions hosted',
    kind: 'sessionsHosted',
    threshold: 50,
    bonus: 5_000,
  },
  {
    name: 'host-10h',
    label: '10 hours hosted',
    kind: 'minutesHosted',
    threshold: 600,
    bonus: 2_000,
  },
  {
    name: 'host-50h',
    label: '50 hours hosted',
    kind: 'minutesHosted',
    threshold: 3_000,
    bonus: 10_000,
  },
] as const

export type Milestone = (typeof MILESTONES)[number]
export type ActivityStats = Record<Milestone['kind'], number>

/** The milestones `stats` have reached. */
export function reachedMilestones(stats: ActivityStats): Milestone[] {
  return MILESTONES.filter((m) => stats[m.kind] >= m.threshold)
}

/**
 * Whole minutes covered by `intervals` (ms), overlaps counted once (a person in two tabs watches
 * once), clipped to [from, to].
 */
export function coveredMinutes(
  intervals: ReadonlyArray<readonly [number, number]>,
  from: number,
  to: number,
): number {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  let total = 0
  let end = -Infinity
  for (const [a, b] of clipped) {
    if (b <= end) continue
    total += b - Math.max(a, end)
    end = b
  }
  return Math.floor(total / 60_000)
}
