import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import {
  Form,
  Link,
  useActionData,
  useLoaderData,
  useLocation,
} from '@remix-run/react'
import { useEffect, useState, type ClipboardEvent, type FormEvent } from 'react'
import { FormError } from '../components/ui/form-error'
import { SubmitButton } from '../components/ui/submit-button'
import { TextField } from '../components/ui/text-field'
import { OTP_TTL_MINUTES } from '../models/otp.server'
import { requestSignInCode, verifySignInCode } from '../models/sign-in.server'
import { getDb } from '../utils/context.server'
import { DomainError } from '../utils/errors'
import {
  formAction,
  formHeaders,
  LoginCodeForm,
  LoginPhoneForm,
  parseForm,
} from '../utils/forms.server'
import { isOutboxActive } from '../utils/outbox.server'
import { maskedPhone } from '../utils/phone'
import { requestClient } from '../utils/request.server'
import { getUser, safeRedirect } from '../utils/session.server'

// How long the resend button waits; the server's own limit (3 codes / 10 min) is what really counts.
const RESEND_AFTER_SECONDS = 30

export const meta: MetaFunction = () => [
  { title: 'Sign in — Kulti' },
  {
    name: 'description',
    content:
      'Sign in to Kulti with your phone number: we text you a 6-digit code, no password needed.',
  },
]

export const headers = formHeaders

export async function loader({ request, context }: LoaderFunctionArgs) {
  const redirectTo = safeRedirect(
    new URL(request.url).searchParams.get('redirectTo'),
  )
  if (await getUser(context)) throw redirect(redirectTo)
  return {
    redirectTo,
    codeValidMinutes: OTP_TTL_MINUTES,
    outboxActive: isOutboxActive(context.env),
  }
}

interface Errors {
  form?: string
  phone?: string
  code?: string
}

type ActionData =
  | { step: 'phone'; phone: string; errors: Errors }
  | { step: 'code'; phone: string; sentAt: number; errors: Errors }

export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, context }, form): Promise<ActionData> => {
      const intent = form.get('intent')
      const { phone } = parseForm(LoginPhoneForm, { phone: form.get('phone') })
      const db = getDb(context)

      if (intent === 'send' || intent === 'resend') {
        await requestSignInCode(db, context, {
          phone,
          client: requestClient(request),
          otpSecret: context.env.OTP_SECRET,
          allowedCountries: context.env.SMS_ALLOWED_COUNTRIES,
        })
        return { step: 'code', phone, sentAt: Date.now(), errors: {} }
      }

      if (intent === 'verify') {
        const { code } = parseForm(LoginCodeForm, { code: form.get('code') })
        const signIn = await verifySignInCode(db, context, {
          phone,
          code,
          client: requestClient(request),
          otpSecret: context.env.OTP_SECRET,
          replacing: await context.session.id(),
        })
        const redirectTo = safeRedirect(form.get('redirectTo'))
        throw redirect(
          signIn.needsProfile ? welcomeUrl(redirectTo) : redirectTo,
          {
            headers: {
              'Set-Cookie': await context.session.commit(signIn.sessionId),
            },
          },
        )
      }

      throw new DomainError('unknown_intent', 'Unknown form intent.')
    },
    // The step the person was on, shown again with the messages: sending failed → the phone step;
    // a failed resend or a wrong code → the code step, keeping the resend timer.
    (form, errors): ActionData => {
      const phone = String(form.get('phone') ?? '')
      return form.get('intent') === 'send' || errors.phone
        ? { step: 'phone', phone, errors }
        : {
            step: 'code',
            phone,
            sentAt: Number(form.get('sentAt')) || 0,
            errors,
          }
    },
  )
}

/** A new account picks its name first, then goes where it was heading. */
function welcomeUrl(redirectTo: string): string {
  return redirectTo === '/dashboard'
    ? '/welcome'
    : `/welcome?${new URLSearchParams({ redirectTo })}`
}

export default function Login() {
  const { redirectTo, codeValidMinutes, outboxActive } =
    useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  return (
    <section className="auth-card card">
      {actionData?.step === 'code' ? (
        <CodeStep
          phone={actionData.phone}
          sentAt={actionData.sentAt}
          codeValidMinutes={codeValidMinutes}
          errors={actionData.errors}
          redirectTo={redirectTo}
        />
      ) : (
        <PhoneStep
          phone={actionData?.phone ?? ''}
          errors={actionData?.errors ?? {}}
          redirectTo={redirectTo}
        />
      )}
      {outboxActive ? (
        <p className="dev-note">
          Development: texts are not really sent. Read your code in the{' '}
          {/* A new tab: without JavaScript, leaving this page would lose the step you are on. */}
          <Link to="/dev/outbox" target="_blank" rel="noreferrer">
            SMS outbox
          </Link>
          .
        </p>
      ) : null}
    </section>
  )
}

function PhoneStep({
  phone,
  errors,
  redirectTo,
}: {
  phone: string
  errors: Errors
  redirectTo: string
}) {
  return (
    <>
      <h1>Sign in or sign up</h1>
      <p className="muted">
        We will text you a 6-digit code. New here? The same code creates your
        account.
      </p>
      <Form method="post" className="stack">
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <FormError message={errors.form} />
        <TextField
          name="phone"
          label="Phone number"
          hint="Use international format: + and your country code, then your number (spaces are fine)."
          error={errors.phone}
          type="tel"
          autoComplete="tel"
          required
          defaultValue={phone}
          placeholder="+1 415 555 0123"
        />
        <SubmitButton intent="send" pendingLabel="Sending code…">
          Text me a code
        </SubmitButton>
      </Form>
    </>
  )
}

function CodeStep({
  phone,
  sentAt,
  codeValidMinutes,
  errors,
  redirectTo,
}: {
  phone: string
  sentAt: number
  codeValidMinutes: number
  errors: Errors
  redirectTo: string
}) {
  const { search } = useLocation()
  const secondsLeft = useCountdown(sentAt, RESEND_AFTER_SECONDS)
  return (
    <>
      <h1>Enter your code</h1>
      <p className="muted">
        We texted a 6-digit code to <strong>{maskedPhone(phone)}</strong>. It
        works for {codeValidMinutes} minutes.
      </p>
      <Form method="post" className="stack">
        <CodeStepState redirectTo={redirectTo} phone={phone} sentAt={sentAt} />
        <FormError message={errors.form ?? errors.phone} />
        <TextField
          name="code"
          label="6-digit code"
          error={errors.code}
          className="code-input"
          type="text"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          required
          autoFocus
          onPaste={pasteDigits}
          onInput={keepDigits}
        />
        <SubmitButton intent="verify" pendingLabel="Checking…">
          Sign in
        </SubmitButton>
      </Form>
      <div className="code-actions">
        <Form method="post" className="inline-form">
          <CodeStepState
            redirectTo={redirectTo}
            phone={phone}
            sentAt={sentAt}
          />
          <SubmitButton
            intent="resend"
            pendingLabel="Sending…"
            className="button button-small button-ghost"
            disabled={secondsLeft > 0}
          >
            {secondsLeft > 0
              ? `Resend code in ${secondsLeft} s`
              : 'Resend code'}
          </SubmitButton>
        </Form>
        <Link to={{ pathname: '/login', search }}>Use a different number</Link>
      </div>
    </>
  )
}

/** What the code step carries from post to post; both of its forms need all of it. */
function CodeStepState({
  redirectTo,
  phone,
  sentAt,
}: {
  redirectTo: string
  phone: string
  sentAt: number
}) {
  return (
    <>
      <input type="hidden" name="redirectTo" value={redirectTo} />
      <input type="hidden" name="phone" value={phone} />
      <input type="hidden" name="sentAt" value={sentAt} />
    </>
  )
}

/** Codes are pasted as `123 456` or `123-456` too; keep the digits so maxLength does not cut them. */
function pasteDigits(event: ClipboardEvent<HTMLInputElement>) {
  const digits = event.clipboardData.getData('text').replace(/\D/g, '')
  if (!digits) return
  event.preventDefault()
  event.currentTarget.value = digits.slice(0, 6)
}

function keepDigits(event: FormEvent<HTMLInputElement>) {
  const input = event.currentTarget
  const digits = input.value.replace(/\D/g, '')
  if (digits !== input.value) input.value = digits
}

/**
 * Seconds left before `sentAt`'s code may be resent. Counts in the browser only: the server render
 * (and a page without JavaScript) shows the button enabled, and the server limit still applies.
 */
function useCountdown(sentAt: number, seconds: number): number {
  const [left, setLeft] = useState(0)
  useEffect(() => {
    if (!sentAt) return
    const until = Date.now() + seconds * 1000
    const tick = () =>
      setLeft(Math.max(0, Math.ceil((until - Date.now()) / 1000)))
    tick()
    const timer = setInterval(tick, 1000)
    return () => clearInterval(timer)
  }, [sentAt, seconds])
  return left
}
