import type { RateLimiter } from '../../workers/rate-limiter'
import { jsonError } from '../utils/http.server'
import type { RateLimitDecision, RateLimitPolicy } from './sliding-window'

interface Policy extends RateLimitPolicy {
  /** Refuse the request when the limiter cannot be reached (auth and OTP: SPEC §7). */
  failClosed: boolean
}

/** Every limit in the product, in one place (SPEC §1, §3, §7). Keys are `<policy>:<subject>`. */
export const RATE_LIMIT_POLICIES = {
  'otp-send-phone': { limit: 3, periodSeconds: 10 * 60, failClosed: true },
  'otp-send-phone-daily': {
    limit: 10,
    periodSeconds: 24 * 60 * 60,
    failClosed: true,
  },
  'otp-send-ip': { limit: 10, periodSeconds: 60 * 60, failClosed: true },
  'otp-verify-phone': { limit: 10, periodSeconds: 10 * 60, failClosed: true },
  tip: { limit: 10, periodSeconds: 60 * 60, failClosed: true },
  'session-create': { limit: 10, periodSeconds: 60 * 60, failClosed: false },
  'recording-control': { limit: 30, periodSeconds: 10 * 60, failClosed: false },
  mutation: { limit: 120, periodSeconds: 60, failClosed: false },
  // Counts only failed webhook authentications, so 100ms's own deliveries are never slowed down.
  'webhook-auth-failure': { limit: 20, periodSeconds: 60, failClosed: false },
} as const satisfies Record<string, Policy>

export type RateLimitPolicyName = keyof typeof RATE_LIMIT_POLICIES

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
