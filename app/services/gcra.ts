/**
 * The generic cell rate algorithm, as a pure function so it is tested without a Durable Object.
 * A policy allows `limit` requests per `periodSeconds`, in a burst or spread out; each request
 * pushes the "theoretical arrival time" (TAT) forward by periodSeconds / limit.
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

export function gcra(
  storedTatMs: number | null,
  nowMs: number,
  { limit, periodSeconds, cost = 1 }: RateLimitPolicy,
): RateLimitDecision & { tatMs: number } {
  const periodMs = periodSeconds * 1000
  const intervalMs = periodMs / limit
  const tat = Math.max(storedTatMs ?? nowMs, nowMs)
  const newTat = tat + intervalMs * cost
  const allowAt = newTat - periodMs
  if (allowAt > nowMs) {
    return {
      allowed: false,
      limit,
      remaining: 0,
      retryAfter: Math.max(1, Math.ceil((allowAt - nowMs) / 1000)),
      resetAfter: Math.ceil((tat - nowMs) / 1000),
      tatMs: tat,
    }
  }
  return {
    allowed: true,
    limit,
    // Floating point: 10 min / 3 is not exact, so round the quotient before flooring.
    remaining: Math.floor(
      Math.round(((nowMs - allowAt) / intervalMs) * 1e6) / 1e6,
    ),
    retryAfter: 0,
    resetAfter: Math.ceil((newTat - nowMs) / 1000),
    tatMs: newTat,
  }
}
