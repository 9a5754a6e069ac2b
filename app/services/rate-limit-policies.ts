import type { RateLimitPolicy } from './sliding-window'

// Plain data, imported both by the limiter service and by env validation (which checks that
// RATE_LIMIT_OVERRIDES names real policies).

interface Policy extends RateLimitPolicy {
  /** Refuse the request when the limiter cannot answer in time (auth, OTP, tips: SPEC §7). */
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
  // Per client network: an IPv4 address or an IPv6 /64 …
  'otp-send-ip': { limit: 10, periodSeconds: 60 * 60, failClosed: true },
  // … and, for IPv6, its /48, so rotating through the 65,536 /64s of one site buys nothing.
  'otp-send-ip48': { limit: 50, periodSeconds: 60 * 60, failClosed: true },
  // One product-wide key: the SMS bill's ceiling. Its limit comes from SMS_HOURLY_BUDGET.
  'sms-hourly-budget': { limit: 500, periodSeconds: 60 * 60, failClosed: true },
  // Charged only while the phone has a live code (app/models/sign-in.server.ts).
  'otp-verify-phone': { limit: 10, periodSeconds: 10 * 60, failClosed: true },
  'otp-verify-ip': { limit: 30, periodSeconds: 10 * 60, failClosed: true },
  tip: { limit: 10, periodSeconds: 60 * 60, failClosed: true },
  'session-create': { limit: 10, periodSeconds: 60 * 60, failClosed: false },
  'recording-control': { limit: 30, periodSeconds: 10 * 60, failClosed: false },
  // Every mutation of a signed-in user, keyed by user id (requireUser / requireApiUser).
  mutation: { limit: 120, periodSeconds: 60, failClosed: false },
  // Browser reports (POST /api/monitoring/client), per client network: a page sends a few.
  'client-report': { limit: 60, periodSeconds: 10 * 60, failClosed: false },
  // Counts only failed webhook authentications, so 100ms's own deliveries are never slowed down.
  'webhook-auth-failure': { limit: 20, periodSeconds: 60, failClosed: false },
  // CSP violation reports per client network: a page that breaks reports a few; a flood is noise.
  'csp-report': { limit: 30, periodSeconds: 60, failClosed: false },
} as const satisfies Record<string, Policy>

export type RateLimitPolicyName = keyof typeof RATE_LIMIT_POLICIES

/** The policy names, for validating overrides. */
export const RATE_LIMIT_POLICY_NAMES = Object.keys(
  RATE_LIMIT_POLICIES,
) as RateLimitPolicyName[]
