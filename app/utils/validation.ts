import * as z from 'zod'
import { CREDIT_TYPES } from '../db/schema'

/**
 * RFC 3339 timestamps as 100ms sends them: UTC `Z`, 0–9 fractional digits. JavaScript's Date keeps
 * milliseconds, which is all the ordering we need; extra digits are truncated, not rounded.
 */
export const Rfc3339 = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/,
    'must be an RFC 3339 timestamp',
  )
  .transform((value) => new Date(value.replace(/(\.\d{3})\d+/, '$1')))
  .refine((date) => !Number.isNaN(date.getTime()), 'must be a valid date')

/** The envelope shared by every 100ms webhook event (SPEC §5). */
export const HmsWebhookEnvelope = z.object({
  id: z.string().min(1, 'is required').max(200),
  type: z
    .string()
    .min(1, 'is required')
    .max(100)
    .regex(/^[a-z0-9_.-]+$/, 'must be an event type like peer.join.success'),
  timestamp: Rfc3339,
  version: z.string().min(1).max(20),
  data: z.record(z.string(), z.unknown()),
})
/** A validated 100ms webhook event: the one definition the Worker, models and handlers share. */
export type WebhookEnvelope = z.infer<typeof HmsWebhookEnvelope>

/** Turns zod issues into `{ field: message }` for the JSON error shape. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const issue of error.issues) {
    const path = issue.path.join('.') || '(body)'
    fields[path] ??= issue.message
  }
  return fields
}

/**
 * A phone number as people type it (`+1 (555) 123-4567`, `0044 20 7946 0958`), normalised to
 * E.164: `+` and 8–15 digits, no leading zero in the country code.
 */
export const Phone = z
  .string({ error: 'Enter your phone number.' })
  .trim()
  .max(32, 'That is too long for a phone number.')
  // "+44 (0)20 …" is a common way to write a UK number: the (0) is the trunk prefix, dialled only
  // inside the country, never part of the international number.
  .transform((value) =>
    value
      .replace(/^(\+\d{1,3})\s*\(0\)/, '$1')
      .replace(/[\s().-]/g, '')
      .replace(/^00/, '+'),
  )
  .refine((value) => /^\+[1-9]\d{7,14}$/.test(value), {
    error:
      'Enter your number in international format, starting with + and your country code, like +44 20 7946 0958.',
  })

export const OtpCode = z
  .string({ error: 'Enter the 6-digit code we texted you.' })
  .trim()
  .transform((value) => value.replace(/\s/g, ''))
  .refine((value) => /^\d{6}$/.test(value), {
    error: 'The code is the 6 digits from the text message.',
  })

/** Usernames are unique regardless of case, so they are stored lowercase. */
export const Username = z
  .string({ error: 'Choose a username.' })
  .trim()
  .toLowerCase()
  .min(3, 'Usernames are at least 3 characters.')
  .max(20, 'Usernames are at most 20 characters.')
  .regex(/^[a-z0-9_-]+$/, 'Use only letters, digits, _ and -.')

export const DisplayName = z
  .string({ error: 'Enter a display name.' })
  .trim()
  .min(1, 'Enter a display name.')
  .max(50, 'Display names are at most 50 characters.')

export const Bio = z
  .string()
  .trim()
  .max(280, 'Bios are at most 280 characters.')

/** Empty means "no avatar"; anything else must be an https URL (no mixed content, no data: URLs). */
export const AvatarUrl = z
  .string()
  .trim()
  .max(2048, 'That URL is too long.')
  .refine(
    (value) =>
      value === '' || (/^https:\/\/[^\s]+$/.test(value) && URL.canParse(value)),
    {
      error: 'Use an https:// link to an image, or leave it empty.',
    },
  )
  .transform((value) => (value === '' ? null : value))

/** What a user may change about themselves (PUT /api/me, /settings, the welcome step). */
export const ProfilePatch = z.object({
  username: Username.optional(),
  displayName: DisplayName.optional(),
  bio: Bio.optional(),
  avatarUrl: AvatarUrl.optional(),
})
export type ProfilePatch = z.infer<typeof ProfilePatch>

/** A live session as its host describes it (SPEC §2). */
export const SessionTitle = z
  .string({ error: 'Give the session a title.' })
  .trim()
  .min(1, 'Give the session a title.')
  .max(60, 'Titles are at most 60 characters.')

export const SessionDescription = z
  .string()
  .trim()
  .max(280, 'Descriptions are at most 280 characters.')

export const MaxPresenters = z.coerce
  .number({ error: 'Choose between 2 and 6 presenters.' })
  .int('Choose between 2 and 6 presenters.')
  .min(2, 'Choose between 2 and 6 presenters.')
  .max(6, 'Choose between 2 and 6 presenters.')

export const CreateSessionInput = z.object({
  title: SessionTitle,
  description: SessionDescription.default(''),
  isPublic: z.boolean({
    error: 'Say whether the session is public (true or false).',
  }),
  maxPresenters: MaxPresenters.default(4),
})
export type CreateSessionInput = z.infer<typeof CreateSessionInput>

/** Room codes as people read them out: `VIBE-2K4F` (case-insensitive in links). */
export const RoomCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(
    /^[A-Z]{3,8}-[A-Z2-9]{4}$/,
    'That is not a room code (like VIBE-2K4F).',
  )

/** A tip (SPEC §3): whole credits from 1 to 10,000, to someone else, with an optional short note. */
export const TipInput = z.object({
  recipientId: z.uuid({ error: 'Choose who to tip.' }),
  amount: z
    .number({ error: 'Tip a whole number of credits from 1 to 10,000.' })
    .int('Tip a whole number of credits from 1 to 10,000.')
    .min(1, 'Tip at least 1 credit.')
    .max(10_000, 'Tips are at most 10,000 credits.'),
  message: z
    .string()
    .trim()
    .max(140, 'Messages are at most 140 characters.')
    .optional()
    .transform((value) => value || undefined),
  sessionId: z.uuid({ error: 'must be a session id' }).optional(),
})
export type TipInput = z.infer<typeof TipInput>

/** The largest Postgres `integer`: a bigger number compared with an integer column is an error there. */
export const PG_INTEGER_MAX = 2_147_483_647

export const TransactionsQuery = z.object({
  type: z.enum(CREDIT_TYPES, { error: 'is not a transaction type' }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.coerce
    .number({ error: 'must be a cursor from a previous page' })
    .int('must be a cursor from a previous page')
    .positive('must be a cursor from a previous page')
    .max(PG_INTEGER_MAX, 'must be a cursor from a previous page')
    .optional(),
})

/** POST /api/hms/start-recording and stop-recording (SPEC §4). */
export const RecordingControlInput = z.object({
  sessionId: z.uuid({ error: 'must be the id of a session' }),
})

/**
 * Postgres has no year 0 (ISO 8601 does): `0000-01-01` is an error there, so it is refused here.
 * `z.iso.date()` already refuses days that do not exist (2026-02-30).
 */
const isAfterYearZero = (value: string) => !value.startsWith('0000')

/** A calendar day, `2026-05-01`, that Postgres accepts. */
export function calendarDay(message: string) {
  return z.iso.date({ error: message }).refine(isAfterYearZero, message)
}

const DateOrDateTime = z.union(
  [
    calendarDay('must be a date like 2026-05-01'),
    z.iso.datetime({ offset: true }).refine(isAfterYearZero),
  ],
  { error: 'must be a date like 2026-05-01 (or an ISO date-time)' },
)

/** GET /api/recordings/list: filters, sort and a page (limit ≤ 100). */
export const RecordingListQuery = z.object({
  status: z
    .enum(['recording', 'processing', 'completed', 'failed'], {
      error: 'must be recording, processing, completed or failed',
    })
    .optional(),
  role: z
    .enum(['host', 'participant'], { error: 'must be host or participant' })
    .optional(),
  from: DateOrDateTime.optional(),
  to: DateOrDateTime.optional(),
  q: z
    .string()
    .trim()
    .max(60, 'Searches are at most 60 characters.')
    .optional()
    .transform((value) => value || undefined),
  sort: z
    .enum(['newest', 'oldest', 'longest'], {
      error: 'must be newest, oldest or longest',
    })
    .default('newest'),
  limit: z.coerce
    .number({ error: 'must be a number from 1 to 100' })
    .int('must be a number from 1 to 100')
    .min(1, 'must be a number from 1 to 100')
    .max(100, 'must be a number from 1 to 100')
    .default(20),
  cursor: z
    .string()
    .max(200, 'must be a cursor from a previous page')
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor from a previous page')
    .optional(),
})
export type RecordingListQuery = z.infer<typeof RecordingListQuery>

/** `POST /api/sessions/:id/moderators`. */
export const ModeratorInput = z.object({
  userId: z.uuid({ error: 'must be the id of a participant' }),
  action: z.enum(['add', 'remove'], { error: 'must be add or remove' }),
})

/** `PUT /api/me/blocked-terms`: the host's blocked chat terms, replacing the list. */
export const BlockedTermsInput = z.object({
  terms: z
    .array(z.string().max(50, 'A blocked term is at most 50 characters.'), {
      error: 'must be a list of terms',
    })
    .max(100, 'Keep at most 100 blocked terms.'),
})

/**
 * POST /api/monitoring/client: what a page's reporter sends (app/utils/client-monitoring.client.ts).
 * Small and bounded: a page reports at most a few errors, its Web Vitals and, in the room, video
 * samples. The page is a path only; the server scrubs it before anything leaves.
 */
export const ClientReport = z.object({
  page: z.string().startsWith('/', 'must be a path').max(2_048),
  errors: z
    .array(
      z.object({
        kind: z.enum(['error', 'unhandledrejection']),
        name: z.string().max(200),
        message: z.string().max(1_000),
        stack: z.string().max(4_000).optional(),
      }),
    )
    .max(10)
    .default([]),
  vitals: z
    .array(
      z.object({
        name: z.enum(['CLS', 'FCP', 'INP', 'LCP', 'TTFB']),
        value: z.number().min(0).max(3_600_000),
        rating: z.enum(['good', 'needs-improvement', 'poor']).optional(),
      }),
    )
    .max(20)
    .default([]),
  video: z
    .array(
      z.object({
        name: z.enum(['join', 'reconnect', 'quality']),
        value: z.number().min(-1).max(3_600_000),
      }),
    )
    .max(30)
    .default([]),
})
export type ClientReport = z.infer<typeof ClientReport>
