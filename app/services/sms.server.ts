import * as z from 'zod'
import { DomainError, Unavailable } from '../utils/errors'
import type { AppEnv } from '../utils/env.server'
import { measure } from './telemetry.server'

/**
 * Text messages, through one of two providers: Twilio's Messages API in production, or the outbox
 * (a table, readable at /dev/outbox) for development and tests. Nothing else knows Twilio's shapes.
 * A number the provider cannot text is a DomainError (400); a provider that is down is Unavailable.
 */
export interface SmsSender {
  send(to: string, body: string): Promise<void>
}

/** Where the outbox provider writes (the sms_outbox table, through its model). */
export type OutboxWriter = (to: string, body: string) => Promise<void>

export function createSmsSender(env: AppEnv, outbox: OutboxWriter): SmsSender {
  if (env.SMS_PROVIDER === 'outbox') {
    // parseAppEnv already refuses this combination; the check stays next to the danger too.
    if (env.ENVIRONMENT === 'production')
      throw new Error('The SMS outbox cannot be used in production')
    return measured('outbox', { send: outbox })
  }
  return measured('twilio', twilioSender(env))
}

/** Each send timed as `sms` (Server-Timing, slow-call warnings). */
function measured(provider: string, sender: SmsSender): SmsSender {
  return {
    send: (to, body) =>
      measure('sms', `${provider} send`, () => sender.send(to, body)),
  }
}

const UNREACHABLE_MESSAGE =
  'We cannot send a text to this number. Check it, or use another.'

function smsUnavailable(reason: string): Unavailable {
  return new Unavailable('sms', {
    message:
      'We could not send the text just now. Please try again in a minute.',
    cause: new Error(reason),
  })
}

// Twilio's error body (reference/twilio-sms.md): {code, message, more_info, status}.
const TwilioError = z
  .object({ code: z.number(), message: z.string() })
  .partial()
// Invalid `To`, not a mobile number, opted out, unverified on a trial account: the number is the problem.
const RECIPIENT_ERRORS = new Set([21211, 21614, 21610, 21608])

function twilioSender(env: AppEnv): SmsSender {
  const sid = env.TWILIO_ACCOUNT_SID!
  const url = `${env.TWILIO_API_BASE.replace(/\/$/, '')}/2010-04-01/Accounts/${sid}/Messages.json`
  const authorization = `Basic ${btoa(`${sid}:${env.TWILIO_AUTH_TOKEN}`)}`
  return {
    async send(to, body) {
      const form = new URLSearchParams({ To: to, Body: body })
      if (env.TWILIO_MESSAGING_SERVICE_SID)
        form.set('MessagingServiceSid', env.TWILIO_MESSAGING_SERVICE_SID)
      else form.set('From', env.TWILIO_FROM!)
      let response: Response
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            Authorization: authorization,
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json',
          },
          body: form,
          signal: AbortSignal.timeout(10_000),
        })
      } catch (error) {
        throw smsUnavailable(
          `Twilio could not be reached: ${error instanceof Error ? error.name : 'error'}`,
        )
      }
      if (response.status === 201 || response.status === 200) {
        await response.body?.cancel()
        return
      }
      const parsed = TwilioError.safeParse(
        await response.json().catch(() => ({})),
      )
      const code = parsed.success ? parsed.data.code : undefined
      if (code !== undefined && RECIPIENT_ERRORS.has(code)) {
        throw new DomainError('phone_unreachable', UNREACHABLE_MESSAGE, 400, {
          phone: UNREACHABLE_MESSAGE,
        })
      }
      throw smsUnavailable(
        `Twilio answered ${response.status}${code ? ` (error ${code})` : ''}`,
      )
    },
  }
}
