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
  useNavigation,
} from '@remix-run/react'
import { useEffect, useState, type ClipboardEvent, type FormEvent } from 'react'
import { DomainError } from '../models/errors'
import { OTP_TTL_MINUTES } from '../models/otp.server'
import { requestSignInCode, verifySignInCode } from '../utils/auth.server'
import { LoginCodeForm, LoginPhoneForm, parseForm } from '../utils/forms.server'
import type { ErrorBody } from '../utils/http.server'
import {
  commitSessionCookie,
  getUser,
  safeRedirect,
} from '../utils/session.server'

// How long the resend button waits; the server's own limit (3 codes / 10 min) is what really counts.
const RESEND_AFTER_SECONDS = 30

export const meta: MetaFunction = () => [{ title: 'Sign in — Kulti' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const redirectTo = safeRedirect(
    new URL(request.url).searchParams.get('redirectTo'),
  )
  if (await getUser(request, context)) throw redirect(redirectTo)
  return {
    redirectTo,
    codeValidMinutes: OTP_TTL_MINUTES,
    outboxActive:
      context.env.SMS_PROVIDER === 'outbox' &&
      context.env.ENVIRONMENT !== 'production',
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

export async function action({
  request,
  context,
}: ActionFunctionArgs): Promise<ActionData> {
  const form = await request.formData()
  const intent = form.get('intent')
  const redirectTo = safeRedirect(form.get('redirectTo'))
  const rawPhone = String(form.get('phone') ?? '')
  const parsedPhone = parseForm(LoginPhoneForm, { phone: rawPhone })
  if (!parsedPhone.ok)
    return { step: 'phone', phone: rawPhone, errors: parsedPhone.errors }
  const phone = parsedPhone.data.phone

  if (intent === 'send' || intent === 'resend') {
    try {
      await requestSignInCode(request, context, phone)
    } catch (error) {
      const errors = await formErrors(error)
      return intent === 'send'
        ? { step: 'phone', phone: rawPhone, errors }
        : {
            step: 'code',
            phone: phone,
            sentAt: Number(form.get('sentAt')) || 0,
            errors,
          }
    }
    return { step: 'code', phone: phone, sentAt: Date.now(), errors: {} }
  }

  if (intent === 'verify') {
    const sentAt = Number(form.get('sentAt')) || 0
    const code = parseForm(LoginCodeForm, {
      code: String(form.get('code') ?? ''),
    })
    if (!code.ok) return { step: 'code', phone, sentAt, errors: code.errors }
    let signIn
    try {
      signIn = await verifySignInCode(request, context, {
        phone: phone,
        code: code.data.code,
      })
    } catch (error) {
      return {
        step: 'code',
        phone: phone,
        sentAt,
        errors: await formErrors(error),
      }
    }
    const next = signIn.needsProfile ? welcomeUrl(redirectTo) : redirectTo
    throw redirect(next, {
      headers: {
        'Set-Cookie': await commitSessionCookie(
          request,
          context,
          signIn.sessionId,
        ),
      },
    })
  }

  throw new Response('Unknown form intent', { status: 400 })
}

/**
 * Turns what sign-in throws into messages on the form: a broken rule (wrong code, unreachable
 * number) and a rate limit or an unavailable limiter (thrown as JSON Responses) are the person's
 * to act on; anything else is our bug and goes to the error page.
 */
async function formErrors(error: unknown): Promise<Errors> {
  if (error instanceof DomainError)
    return error.fields ? { ...error.fields } : { form: error.message }
  if (
    error instanceof Response &&
    (error.status === 429 || error.status === 503)
  ) {
    const body = (await error.json().catch(() => null)) as ErrorBody | null
    return {
      form:
        body?.error?.message ??
        'Too many attempts. Please wait a few minutes and try again.',
    }
  }
  throw error
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
  const sending = useSubmitting('send')
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
        <div className="field">
          <label htmlFor="phone">Phone number</label>
          <input
            id="phone"
            name="phone"
            type="tel"
            autoComplete="tel"
            required
            defaultValue={phone}
            placeholder="+1 415 555 0123"
            aria-invalid={errors.phone ? true : undefined}
            aria-describedby={
              errors.phone ? 'phone-error phone-hint' : 'phone-hint'
            }
          />
          <p id="phone-hint" className="hint">
            Use international format: + and your country code, then your number
            (spaces are fine).
          </p>
          <FieldError id="phone-error" message={errors.phone} />
        </div>
        <button
          type="submit"
          name="intent"
          value="send"
          className="button"
          disabled={sending}
        >
          {sending ? 'Sending code…' : 'Text me a code'}
        </button>
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
  const verifying = useSubmitting('verify')
  const resending = useSubmitting('resend')
  const secondsLeft = useCountdown(sentAt, RESEND_AFTER_SECONDS)
  return (
    <>
      <h1>Enter your code</h1>
      <p className="muted">
        We texted a 6-digit code to <strong>{phone}</strong>. It works for{' '}
        {codeValidMinutes} minutes.
      </p>
      <Form method="post" className="stack">
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <input type="hidden" name="phone" value={phone} />
        <input type="hidden" name="sentAt" value={sentAt} />
        <FormError message={errors.form ?? errors.phone} />
        <div className="field">
          <label htmlFor="code">6-digit code</label>
          <input
            id="code"
            name="code"
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
            aria-invalid={errors.code ? true : undefined}
            aria-describedby={errors.code ? 'code-error' : undefined}
          />
          <FieldError id="code-error" message={errors.code} />
        </div>
        <button
          type="submit"
          name="intent"
          value="verify"
          className="button"
          disabled={verifying}
        >
          {verifying ? 'Checking…' : 'Sign in'}
        </button>
      </Form>
      <div className="code-actions">
        <Form method="post" className="inline-form">
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <input type="hidden" name="phone" value={phone} />
          <input type="hidden" name="sentAt" value={sentAt} />
          <button
            type="submit"
            name="intent"
            value="resend"
            className="button button-small button-ghost"
            disabled={secondsLeft > 0 || resending}
          >
            {resending
              ? 'Sending…'
              : secondsLeft > 0
                ? `Resend code in ${secondsLeft} s`
                : 'Resend code'}
          </button>
        </Form>
        <Link to={{ pathname: '/login', search }}>Use a different number</Link>
      </div>
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

function useSubmitting(intent: string): boolean {
  const navigation = useNavigation()
  return (
    navigation.state === 'submitting' &&
    navigation.formData?.get('intent') === intent
  )
}

function FormError({ message }: { message?: string }) {
  if (!message) return null
  return (
    <p className="form-error" role="alert">
      {message}
    </p>
  )
}

function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null
  return (
    <p id={id} className="field-error">
      {message}
    </p>
  )
}
