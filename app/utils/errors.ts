import { scrubText } from '../services/scrub'
import type { RateLimitDecision } from '../services/sliding-window'

/**
 * The errors models and services throw (DESIGN "Errors", ADR 010). They are vocabulary without
 * domain knowledge; exactly three translators turn them into HTTP: `apiRoute` (JSON API),
 * `formAction` (page forms) and the webhooks Worker's `onError`. Nothing below a route builds a
 * Response.
 */

// The app Worker bundles these classes twice (once inside the Remix server build, once for the
// Worker's own wiring), so `instanceof` can miss. A registry-wide symbol marks each kind instead.
const KIND = Symbol.for('kulti.error.kind')
type Kind = 'DomainError' | 'RateLimited' | 'Unavailable'
const isKind = (error: unknown, kind: Kind) =>
  typeof error === 'object' &&
  error !== null &&
  (error as { [KIND]?: unknown })[KIND] === kind

export const isDomainError = (error: unknown): error is DomainError =>
  isKind(error, 'DomainError')
export const isRateLimited = (error: unknown): error is RateLimited =>
  isKind(error, 'RateLimited')
export const isUnavailable = (error: unknown): error is Unavailable =>
  isKind(error, 'Unavailable')

/**
 * A rule of the domain was broken by the caller (wrong code, taken username, short balance…).
 * `status` is the HTTP status to answer with; `fields` are messages for individual inputs.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly fields?: Record<string, string>,
    /** Extra response headers a translator adds (`Allow` on a 405). */
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.name = 'DomainError'
    Object.defineProperty(this, KIND, { value: 'DomainError' })
  }
}

/** A limit of the policy table was reached: 429 with Retry-After. */
export class RateLimited extends Error {
  constructor(
    readonly policy: string,
    readonly retryAfter: number,
    readonly decision: RateLimitDecision,
    readonly periodSeconds: number,
  ) {
    super(`Too many attempts. Try again in ${formatWait(retryAfter)}.`)
    this.name = 'RateLimited'
    Object.defineProperty(this, KIND, { value: 'RateLimited' })
  }
}

/**
 * An outside system (the rate limiter, the SMS provider, 100ms…) is down, slow or refusing: 503 with
 * Retry-After. `message` is safe to show; the cause stays in the logs.
 */
export class Unavailable extends Error {
  readonly code: string
  readonly retryAfter: number
  constructor(
    readonly service: string,
    {
      message = 'This action is briefly unavailable. Please try again in a minute.',
      code = `${service.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_unavailable`,
      retryAfter = 60,
      cause,
    }: {
      message?: string
      code?: string
      retryAfter?: number
      cause?: unknown
    } = {},
  ) {
    super(message, { cause })
    this.name = 'Unavailable'
    Object.defineProperty(this, KIND, { value: 'Unavailable' })
    this.code = code
    this.retryAfter = retryAfter
  }
}

/** What operators need to know about an outage, for the report: which service, and why. */
export function unavailableDetails(error: unknown): {
  service?: string
  reason?: string
} {
  if (!isUnavailable(error)) return {}
  const cause = error.cause
  return {
    service: error.service,
    reason: scrubText(cause instanceof Error ? cause.message : String(cause)),
  }
}

/** "45 seconds", "3 minutes", "2 hours": how long to wait, in words. */
export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`
  const hours = Math.ceil(minutes / 60)
  return `${hours} hour${hours === 1 ? '' : 's'}`
}

/** What a caught value says about itself, for a log line: an Error's message, else the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
