import {
  json,
  type ActionFunctionArgs,
  type HeadersFunction,
} from '@remix-run/cloudflare'
import * as z from 'zod'
import { rateLimitHeaders } from '../services/rate-limit.server'
import {
  isDomainError,
  isRateLimited,
  isUnavailable,
  unavailableDetails,
} from './errors'
import { validate } from './request.server'
import {
  AvatarUrl,
  calendarDay,
  Bio,
  DisplayName,
  MaxPresenters,
  OtpCode,
  Phone,
  SessionDescription,
  SessionTitle,
  TipInput,
  TransactionsQuery,
  Username,
} from './validation'

/**
 * The pages' form schemas. They live in a `.server` module because the Remix compiler drops such
 * modules from the browser bundle: imported from a route directly, zod would ship to every visitor.
 */
export const LoginPhoneForm = z.object({ phone: Phone })
export const LoginCodeForm = z.object({ code: OtpCode })
export const WelcomeForm = z.object({
  username: Username,
  displayName: DisplayName,
})
export const ProfileForm = z.object({
  displayName: DisplayName,
  bio: Bio,
  avatarUrl: AvatarUrl,
})

/**
 * The blocked chat terms on /settings: a textarea, one term per line, blank lines ignored. The
 * model (replaceBlockedTerms) owns the rules (at most 100 terms of 50 characters, duplicates
 * dropped); this only bounds the text it will read.
 */
export const BlockedTermsForm = z.object({
  terms: z
    .string({ error: 'Enter the terms, one per line.' })
    .max(10_000, 'That is too much text: keep at most 100 terms, one per line.')
    .transform((text) =>
      text
        .split(/\r\n?|\n/)
        .map((line) => line.trim())
        .filter(Boolean),
    ),
})

/** The create form on /dashboard: a checkbox for public, a select for presenters. */
export const CreateSessionForm = z.object({
  title: SessionTitle,
  description: SessionDescription,
  isPublic: z
    .union([z.literal('on'), z.literal('true'), z.null(), z.undefined()])
    .transform((value) => value === 'on' || value === 'true'),
  maxPresenters: MaxPresenters,
})

/**
 * A tip from a page (the profile, the room): the amount as typed, an optional message, and the
 * idempotency key the page rendered into a hidden field, so a double submit pays once. Who is
 * tipped, and in which session, the action decides from the page, never from the form.
 */
export const TipForm = z.object({
  amount: z
    .string({ error: 'Tip a whole number of credits from 1 to 10,000.' })
    .trim()
    .regex(/^\d{1,9}$/, 'Tip a whole number of credits from 1 to 10,000.')
    .transform(Number)
    .pipe(TipInput.shape.amount),
  message: TipInput.shape.message,
  idempotencyKey: z
    .string({ error: 'This form is out of date: reload the page.' })
    .regex(
      /^[\x21-\x7e]{1,100}$/,
      'This form is out of date: reload the page.',
    ),
})

/** The Retry button of a failed webhook event on /ops: the stored event's row id. */
export const RetryWebhookEventForm = z.object({
  id: z.uuid({ error: 'That is not a stored event.' }),
})

/** The history filter on /credits (a GET form): `?type&cursor&limit`, as the JSON API reads them. */
export const CreditHistoryQuery = TransactionsQuery

/** A calendar day as `<input type="date">` submits it: `2025-03-05`. */
const IsoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Pick a date like 2025-03-05.')
  .pipe(calendarDay('Pick a real date.'))

/**
 * The filters on /recordings (a GET form, SPEC §4): `?status&role&from&to&q&sort&cursor&limit`.
 * `from` and `to` are days, both inclusive; empty fields are dropped before parsing.
 */
export const RecordingsQuery = z
  .object({
    status: z
      .enum(['recording', 'processing', 'completed', 'failed'], {
        error: 'That is not a recording status.',
      })
      .optional(),
    role: z
      .enum(['host', 'participant'], { error: 'That is not a role.' })
      .optional(),
    from: IsoDay.optional(),
    to: IsoDay.optional(),
    q: z
      .string()
      .trim()
      .max(100, 'Search for at most 100 characters.')
      .optional()
      .transform((value) => value || undefined),
    sort: z
      .enum(['newest', 'oldest', 'longest'], { error: 'That is not a sort.' })
      .default('newest'),
    cursor: z.string().max(500).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    message: 'The start date is after the end date.',
    path: ['to'],
  })
export type RecordingsQuery = z.infer<typeof RecordingsQuery>

export type FieldErrors = Record<string, string>

/** Validates submitted fields; a failure is a DomainError with one message per field (400). */
export function parseForm<S extends z.ZodType>(
  schema: S,
  values: unknown,
): z.infer<S> {
  return validate(schema, values, 'Some fields need fixing.')
}

/**
 * The one translator of typed errors for page forms (ADR 010), used by every page action:
 * `export function action(args) { return formAction(args, handle, (form, errors) => data) }`, with
 * `export const headers = formHeaders`. (A function, not `export const action = formAction(…)`:
 * the browser build keeps top-level calls, and this module does not exist there.) The handler reads
 * nothing but the submitted form; when it throws a DomainError, RateLimited or Unavailable, the
 * page gets `onError`'s action data (the form re-rendered with the messages) with the same status
 * as the JSON API would answer: 400/409 for a mistake, 429 with Retry-After over a limit, 503 when
 * an outside system is down. Redirects and other Responses pass through; anything else is a bug
 * and reaches the error page.
 */
export async function formAction<D, E>(
  args: ActionFunctionArgs,
  handler: (args: ActionFunctionArgs, form: FormData) => Promise<D>,
  onError: (form: FormData, errors: FieldErrors) => E,
) {
  const form = await readForm(args.request)
  let failure: { status: number; errors: FieldErrors; headers: HeadersInit }
  try {
    return await handler(args, form)
  } catch (error) {
    failure = formFailure(error, args)
  }
  return json(onError(form, failure.errors), {
    status: failure.status,
    headers: {
      ...rateLimitHeaders(args.context.limiter.decisions),
      ...failure.headers,
    },
  })
}

const FORWARDED_HEADERS = ['Retry-After', 'RateLimit', 'RateLimit-Policy']

/**
 * A page's `headers` export (`export const headers = formHeaders`): Remix sends a document only the
 * headers a route's `headers` function returns, so the action's Retry-After and RateLimit headers
 * reach the browser through this.
 */
export const formHeaders: HeadersFunction = ({ actionHeaders }) => {
  const headers = new Headers()
  for (const name of FORWARDED_HEADERS) {
    const value = actionHeaders.get(name)
    if (value !== null) headers.set(name, value)
  }
  return headers
}

function formFailure(
  error: unknown,
  { context, request }: ActionFunctionArgs,
): { status: number; errors: FieldErrors; headers: HeadersInit } {
  if (isDomainError(error)) {
    return {
      status: error.status,
      errors: error.fields ?? { form: error.message },
      headers: error.headers ?? {},
    }
  }
  if (isRateLimited(error))
    return { status: 429, errors: { form: error.message }, headers: {} }
  if (isUnavailable(error)) {
    context.monitor.captureException(error, {
      requestId: context.requestId,
      path: new URL(request.url).pathname,
      ...unavailableDetails(error),
    })
    return {
      status: 503,
      errors: { form: error.message },
      headers: { 'Retry-After': String(error.retryAfter) },
    }
  }
  throw error
}

/**
 * The submitted form. A body that cannot be parsed (a broken multipart boundary, JSON posted to a
 * page) is the sender's mistake, so it answers 400 instead of surfacing as our 500.
 */
async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData()
  } catch {
    throw new Response('The form could not be read. Please submit it again.', {
      status: 400,
    })
  }
}
