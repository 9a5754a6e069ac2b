import type { Db } from '../db/client.server'
import type { Limiter } from '../services/rate-limit.server'
import type { SmsSender } from '../services/sms.server'
import { log } from '../services/monitoring.server'
import { maskPhone } from '../services/scrub'
import { DomainError, isRateLimited, Unavailable } from '../utils/errors'
import {
  ipPrefix,
  rateLimitNetwork,
  rateLimitSite,
  type RequestClient,
} from '../utils/request.server'
import { signInWithCode, type SignIn } from './auth-sessions.server'
import { CODE_EXPIRED_MESSAGE, hasLiveCode, sendSignInCode } from './otp.server'

/**
 * The two steps of phone sign-in (SPEC §1), shared by the /login page and the JSON endpoints so both
 * obey the same limits and rules. `phone` is already normalised to E.164; `client` is who asks. The services arrive as parameters, so tests can point them at fakes.
 */

export interface SendCodeInput {
  phone: string
  client: RequestClient
  otpSecret: string
  /** Calling codes texts may go to (SMS_ALLOWED_COUNTRIES); undefined = everywhere. */
  allowedCountries?: readonly string[]
}

export async function requestSignInCode(
  db: Db,
  { limiter, sms }: { limiter: Limiter; sms: SmsSender },
  { phone, client, otpSecret, allowedCountries }: SendCodeInput,
): Promise<void> {
  if (allowedCountries && !isInCountries(phone, allowedCountries)) {
    const message = `Kulti cannot text numbers in that country yet. Numbers starting with ${allowedCountries.map((c) => `+${c}`).join(', ')} work.`
    throw new DomainError('country_not_supported', message, 400, {
      phone: message,
    })
  }
  // Each check counts the request as it passes, so a later refusal still spends the earlier ones.
  // The address goes first: when a shared network is over its limit, the person's own phone
  // budget is left untouched.
  await limiter.check('otp-send-ip', rateLimitNetwork(client.ip))
  const site = rateLimitSite(client.ip)
  if (site) await limiter.check('otp-send-ip48', site)
  await limiter.check('otp-send-phone', phone)
  await limiter.check('otp-send-phone-daily', phone)
  await spendSmsBudget(limiter)
  await sendSignInCode(db, sms, { phone, secret: otpSecret })
  log('info', 'sign-in code sent', { phone: maskPhone(phone) })
}

/**
 * The product-wide hourly SMS budget (SMS_HOURLY_BUDGET): when it is spent nobody gets a text, so
 * it is our outage (503, reported to operators), not the caller's limit.
 */
async function spendSmsBudget(limiter: Limiter): Promise<void> {
  try {
    await limiter.check('sms-hourly-budget', 'all')
  } catch (error) {
    if (!isRateLimited(error)) throw error
    throw new Unavailable('sms budget', {
      code: 'sms_budget_spent',
      message:
        'We cannot send sign-in texts right now. Please try again later.',
      retryAfter: error.retryAfter,
      cause: new Error('the hourly SMS budget (SMS_HOURLY_BUDGET) is spent'),
    })
  }
}

// E.164 calling codes form a prefix code: no code is the start of another, so a prefix test is exact.
function isInCountries(phone: string, codes: readonly string[]): boolean {
  return codes.some((code) => phone.startsWith(`+${code}`))
}

export interface VerifyCodeInput {
  phone: string
  code: string
  client: RequestClient
  otpSecret: string
  /** The session this browser already holds, replaced by the new one. */
  replacing: string | null
}

export async function verifySignInCode(
  db: Db,
  { limiter }: { limiter: Limiter },
  { phone, code, client, otpSecret, replacing }: VerifyCodeInput,
): Promise<SignIn> {
  await limiter.check('otp-verify-ip', rateLimitNetwork(client.ip))
  // Guesses at a number with no live code cannot succeed, so they must not spend its owner's
  // verify budget either: otherwise anyone could keep a chosen person from signing in.
  if (!(await hasLiveCode(db, phone))) {
    throw new DomainError('code_expired', CODE_EXPIRED_MESSAGE, 400, {
      code: CODE_EXPIRED_MESSAGE,
    })
  }
  await limiter.check('otp-verify-phone', phone)
  const signIn = await signInWithCode(db, {
    phone,
    code,
    secret: otpSecret,
    // The session row keeps the network (a /24 or /48), never the address itself.
    client: { userAgent: client.userAgent, ipPrefix: ipPrefix(client.ip) },
    replacing,
  })
  log('info', 'signed in', { userId: signIn.user.id })
  return signIn
}
