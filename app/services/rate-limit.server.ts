import type { RateLimiter } from '../../workers/rate-limiter'
import { jsonError } from '../utils/http.server'
import {
  RATE_LIMIT_POLICIES,
  type RateLimitPolicyName,
} from './rate-limit-policies'
import type { RateLimitDecision, RateLimitPolicy } from './sliding-window'

export type RateLimiterNamespace = DurableObjectNamespace<RateLimiter>

/** Per-deployment replacements for a policy's numbers (RATE_LIMIT_OVERRIDES); tests use them. */
export type RateLimitOverrides = Partial<Record<string, RateLimitPolicy>>

/** Asks the limiter object for `<policy>:<subject>`; one object per key keeps hot keys apart. */
export async function checkRateLimit(
  limiter: RateLimiterNamespace,
  policyName: RateLimitPolicyName,
  subject: string,
  overrides: RateLimitOverrides = {},
): Promise<RateLimitDecision> {
  const key = `${policyName}:${subject}`
  const { limit, periodSeconds } =
    overrides[policyName] ?? RATE_LIMIT_POLICIES[policyName]
  const stub = limiter.get(limiter.idFromName(key))
  return stub.check(key, { limit, periodSeconds })
}

/** `RateLimit-*` headers (IETF draft) describing a decision. */
export function rateLimitHeaders(
  decision: RateLimitDecision,
): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetAfter),
  }
  if (!decision.allowed) headers['Retry-After'] = String(decision.retryAfter)
  return headers
}

/**
 * Counts a request against a policy and throws a 429 Response (with Retry-After) when it is over.
 * When the limiter is unreachable, fail-closed policies throw a 503; the others let it through.
 */
export async function enforceRateLimit(
  limiter: RateLimiterNamespace,
  policyName: RateLimitPolicyName,
  subject: string,
  overrides?: RateLimitOverrides,
): Promise<RateLimitDecision | null> {
  let decision: RateLimitDecision
  try {
    decision = await checkRateLimit(limiter, policyName, subject, overrides)
  } catch (error) {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'rate limiter unreachable',
        policy: policyName,
        error: String(error),
      }),
    )
    if (!RATE_LIMIT_POLICIES[policyName].failClosed) return null
    throw jsonError(
      503,
      'rate_limiter_unavailable',
      'This action is briefly unavailable. Please try again in a minute.',
      {
        headers: { 'Retry-After': '60' },
      },
    )
  }
  if (!decision.allowed) {
    throw jsonError(
      429,
      'rate_limited',
      `Too many attempts. Try again in ${formatWait(decision.retryAfter)}.`,
      {
        headers: rateLimitHeaders(decision),
      },
    )
  }
  return decision
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`
  const hours = Math.ceil(minutes / 60)
  return `${hours} hour${hours === 1 ? '' : 's'}`
}

/** `enforceRateLimit` with the request's limiter and this deployment's overrides. */
export function limit(
  context: {
    cloudflare: { env: { RATE_LIMITER: RateLimiterNamespace } }
    env: { RATE_LIMIT_OVERRIDES?: RateLimitOverrides }
  },
  policyName: RateLimitPolicyName,
  subject: string,
): Promise<RateLimitDecision | null> {
  return enforceRateLimit(
    context.cloudflare.env.RATE_LIMITER,
    policyName,
    subject,
    context.env.RATE_LIMIT_OVERRIDES,
  )
}
