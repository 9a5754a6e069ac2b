/**
 * The limiter's arithmetic, as a pure function so it is tested without a Durable Object: a sliding
 * window log. A policy allows at most `limit` requests in ANY `periodSeconds`-long window, which is
 * what SPEC §1 promises ("3 codes / 10 min"). Each allowed request is remembered until it leaves
 * the window, so the state per key is at most `limit` timestamps (see ADR 007).
 */
export interface RateLimitPolicy {
  limit: number
  periodSeconds: number
  /** How many units this request consumes; 1 by default. */
  cost?: number
}

export interface RateLimitDecision {
  allowed: boolean
  limit: number
  /** Requests still allowed right now after this one. */
  remaining: number
  /** Seconds until this request would be allowed; 0 when allowed. */
  retryAfter: number
  /** Seconds until the full limit is available again. */
  resetAfter: number
}

/**
 * Decides one request. `expiries` are the moments (ms) at which earlier allowed requests leave the
 * window, ascending; the result's `expiries` is the list to store (refused requests add nothing).
 */
export function slidingWindow(
  expiries: readonly number[],
  nowMs: number,
  { limit, periodSeconds, cost = 1 }: RateLimitPolicy,
): RateLimitDecision & { expiries: number[] } {
  const periodMs = periodSeconds * 1000
  const live = expiries.filter((expiry) => expiry > nowMs)
  const seconds = (untilMs: number) =>
    Math.max(0, Math.ceil((untilMs - nowMs) / 1000))
  if (live.length + cost > limit) {
    // The request fits once enough of the oldest requests have left the window.
    const mustLeave = live.length + cost - limit
    const fitsAt = cost > limit ? nowMs + periodMs : live[mustLeave - 1]!
    return {
      allowed: false,
      limit,
      remaining: Math.max(0, limit - live.length),
      retryAfter: Math.max(1, seconds(fitsAt)),
      resetAfter: seconds(live.at(-1) ?? nowMs),
      expiries: live,
    }
  }
  const stored = [...live, ...Array<number>(cost).fill(nowMs + periodMs)]
  return {
    allowed: true,
    limit,
    remaining: limit - stored.length,
    retryAfter: 0,
    resetAfter: seconds(stored.at(-1)!),
    expiries: stored,
  }
}
