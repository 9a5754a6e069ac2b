import type { AppLoadContext } from '@remix-run/cloudflare'
import { signInWithCode, type SignIn } from '../models/auth-sessions.server'
import { DomainError } from '../models/errors'
import { sendSignInCode } from '../models/otp.server'
import { limit } from '../services/rate-limit.server'
import { createSmsSender, SmsError } from '../services/sms.server'
import { log } from '../services/monitoring.server'
import { maskPhone } from '../services/scrub'
import { getDb } from './context.server'
import { clientIp, ipPrefix, rateLimitNetwork } from './request.server'

/**
 * The two steps of phone sign-in, shared by the /login page and the JSON endpoints so both obey
 * the same limits (SPEC §1) and the same rules. `phone` is already normalised to E.164.
 */
export async function requestSignInCode(
  request: Request,
  context: AppLoadContext,
  phone: string,
): Promise<void> {
  // Each check counts the request as it passes, so a later refusal still spends the earlier ones.
  // The address goes first: when a shared network is over its limit, the person's own phone
  // budget is left untouched.
  await limit(context, 'otp-send-ip', rateLimitNetwork(clientIp(request)))
  await limit(context, 'otp-send-phone', phone)
  await limit(context, 'otp-send-phone-daily', phone)
  const db = getDb(context)
  try {
    await sendSignInCode(db, createSmsSender(context.env, db), {
      phone,
      secret: context.env.OTP_SECRET,
    })
  } catch (error) {
    if (!(error instanceof SmsError)) throw error
    log('warn', 'sign-in code not sent', {
      phone: maskPhone(phone),
      reason: error.message,
      requestId: context.requestId,
    })
    if (error.kind === 'invalid_recipient') {
      throw new DomainError(
        'phone_unreachable',
        'We cannot send a text to this number. Check it, or use another.',
        400,
        {
          phone: 'We cannot send a text to this number.',
        },
      )
    }
    throw new DomainError(
      'sms_unavailable',
      'We could not send the text just now. Please try again in a minute.',
      503,
    )
  }
  log('info', 'sign-in code sent', {
    phone: maskPhone(phone),
    requestId: context.requestId,
  })
}

export async function verifySignInCode(
  request: Request,
  context: AppLoadContext,
  { phone, code }: { phone: string; code: string },
): Promise<SignIn> {
  await limit(context, 'otp-verify-phone', phone)
  const signIn = await signInWithCode(getDb(context), {
    phone,
    code,
    secret: context.env.OTP_SECRET,
    client: {
      userAgent: request.headers.get('User-Agent'),
      ipPrefix: ipPrefix(clientIp(request)),
    },
  })
  log('info', 'signed in', {
    userId: signIn.user.id,
    requestId: context.requestId,
  })
  return signIn
}
