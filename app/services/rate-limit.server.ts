import type { RateLimiter as RateLimiterObject } from '../../workers/rate-limiter'
import { RateLimited, Unavailable, errorMessage } from '../utils/errors'
import {
  RATE_LIMIT_POLICIES,
  type RateLimitPolicyName,
} from './rate-limit-policies'
import type { RateLimitDecision, RateLimitPolicy } from './sliding-window'
import { log } from './monitoring.server'

export type RateLimiterNamespace = DurableObjectNamespace<RateLimiterObject>

/** Per-deployment replacements for a policy's numbers (RATE_LIMIT_OVERRIDES, SMS_HOURLY_BUDGET). */
export type RateLimitOverrides = Partial<Record<string, RateLimitPolicy>>

/** SPEC §1: the limiter is asked with a timeout of at most 1.5 s. */
export const LIMITER_TIMEOUT_MS = 1_500

export interface CountedDecision {
  policy: string
  periodSeconds: number
  decision: RateLimitDecision
}

/**
 * The rate limiter as one request sees it. `check` counts the request against `<policy>:<subject>`
 * and throws `RateLimited` when it is over; when the limiter fails or does not answer within
 * LIMITER_TIMEOUT_MS, fail-closed policies throw `Unavailable` and the others let it through.
 * `decisions` keeps what was counted, for the RateLimit headers of the response.
 */
export interface Limiter {
  check(policy: RateLimitPolicyName, subject: string): Promise<void>
  readonly decisions: readonly CountedDecision[]
}

export function createLimiter(
  namespace: RateLimiterNamespace,
  {
    overrides = {},
    timeoutMs = LIMITER_TIMEOUT_MS,
    requestId,
    onRefusal = () => {},
  }: {
    overrides?: RateLimitOverrides
    timeoutMs?: number
    /** Passed to the object, so an error there is reported under this request's id. */
    requestId?: string
    /** Told the policy of each refusal (the Workers count them for /ops, ADR 019). */
    onRefusal?: (policy: RateLimitPolicyName) => void
  } = {},
): Limiter {
  const decisions: CountedDecision[] = []
  return {
    decisions,
    async check(policyName, subject) {
      const key = `${policyName}:${subject}`
      const { limit, periodSeconds } =
        overrides[policyName] ?? RATE_LIMIT_POLICIES[policyName]
      let decision: RateLimitDecision
      try {
        const stub = namespace.get(namespace.idFromName(key))
        decision = await withTimeout(
          stub.check(key, { limit, periodSeconds }, { requestId }),
          timeoutMs,
        )
      } catch (error) {
        const failClosed = RATE_LIMIT_POLICIES[policyName].failClosed
        // Failing open is worth a report of its own; failing closed is reported as the 503 it causes.
        log(failClosed ? 'info' : 'warn', 'rate limiter unreachable', {
          policy: policyName,
          failClosed,
          error: errorMessage(error),
        })
        if (!failClosed) return
        throw new Unavailable('rate limiter', { cause: error })
      }
      decisions.push({ policy: policyName, periodSeconds, decision })
      if (!decision.allowed) {
        onRefusal(policyName)
        throw new RateLimited(
          policyName,
          decision.retryAfter,
          decision,
          periodSeconds,
        )
      }
    },
  }
}

/**
 * `RateLimit-Policy` and `RateLimit` (IETF draft-ietf-httpapi-ratelimit-headers, structured
 * fields), one list item per policy the request was counted against; `Retry-After` on a refusal.
 */
export function rateLimitHeaders(
  decisions: readonly CountedDecision[],
): Record<string, string> {
  if (decisions.length === 0) return {}
  const headers: Record<string, string> = {
    'RateLimit-Policy': decisions
      .map((d) => `"${d.policy}";q=${d.decision.limit};w=${d.periodSeconds}`)
      .join(', '),
    RateLimit: decisions
      .map(
        (d) =>
          `"${d.policy}";r=${d.decision.remaining};t=${d.decision.allowed ? d.decision.resetAfter : d.decision.retryAfter}`,
      )
      .join(', '),
  }
  const refused = decisions.filter((d) => !d.decision.allowed)
  if (refused.length > 0)
    headers['Retry-After'] = String(
      Math.max(...refused.map((d) => d.decision.retryAfter)),
    )
  return headers
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${ms} ms`)),
        ms,
      )
    }),
  ]).finally(() => clearTimeout(timer))
}
