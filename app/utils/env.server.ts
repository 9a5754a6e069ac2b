import * as z from 'zod'
import { RATE_LIMIT_POLICY_NAMES } from '../services/rate-limit-policies'

/**
 * The Workers' configuration, validated once per isolate. A missing or malformed variable fails the
 * first request with one message that lists every problem, instead of a confusing error later.
 * Each Worker has its own schema: the webhooks Worker does not need session, SMS or 100ms API
 * settings (the app Worker reads the webhook secret too, to configure the rooms it creates).
 */
const Environment = z.enum(['development', 'test', 'production'])

const url = z.url({ error: 'must be a URL' })
const secret = z
  .string({ error: 'is required' })
  .min(16, 'must be at least 16 characters')

const wholeMs = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .positive('must be at least 1')
    .default(fallback)

/** What monitoring reads (app/services/monitoring.server.ts); the Durable Objects read only these. */
const MonitoringVars = {
  ENVIRONMENT: Environment.default('development'),
  SENTRY_DSN: url.optional(),
  // The share of error events sent to Sentry (0 to 1). Every error is still logged.
  SENTRY_SAMPLE_RATE: z.coerce
    .number({ error: 'must be a number from 0 to 1' })
    .min(0, 'must be a number from 0 to 1')
    .max(1, 'must be a number from 0 to 1')
    .default(1),
  // A database query slower than this is logged as a warning (and reported).
  SLOW_QUERY_MS: wholeMs(500),
  // A call to 100ms or the SMS provider slower than this is logged as a warning (and reported).
  SLOW_CALL_MS: wholeMs(3_000),
}
const MonitoringEnvSchema = z.object(MonitoringVars)
export type MonitoringEnv = z.infer<typeof MonitoringEnvSchema>

const CommonEnv = z.object({
  DATABASE_URL: z
    .string({ error: 'is required' })
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  // Loopback WebSocket relay for local Postgres (scripts/lib/ws-relay.mjs); never set in production.
  DB_WSPROXY: z
    .string()
    .regex(/^[\w.-]+:\d+$/, 'must be host:port of the local relay')
    .optional(),
  ...MonitoringVars,
})

/** `{"otp-send-ip": {"limit": 100, "periodSeconds": 3600}}`: per-deployment limits (tests, load tests). */
const RateLimitOverrides = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' })
      return z.NEVER
    }
  })
  .pipe(
    z.partialRecord(
      z.enum(RATE_LIMIT_POLICY_NAMES),
      z.object({
        limit: z.number().int().positive(),
        periodSeconds: z.number().int().positive(),
      }),
    ),
  )

const AppEnvSchema = CommonEnv.extend({
  APP_URL: url.optional(),
  // Comma-separated; the first signs new cookies, all of them verify (rotation without sign-outs).
  SESSION_SECRETS: z
    .string({ error: 'is required' })
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().min(16, 'each secret must be at least 16 characters'))
        .min(1, 'needs at least one secret'),
    ),
  OTP_SECRET: secret,
  SMS_PROVIDER: z.enum(['twilio', 'outbox'], {
    error: 'must be twilio or outbox',
  }),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(
      /^AC[0-9a-fA-F]{32}$/,
      'must be an Account SID (AC + 32 hex characters)',
    )
    .optional(),
  TWILIO_AUTH_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional(),
  TWILIO_FROM: z
    .string()
    .regex(
      /^(\+[1-9]\d{7,14}|\d{3,8}|[A-Za-z0-9 ]{1,11})$/,
      'must be an E.164 number, a short code or a sender ID',
    )
    .optional(),
  TWILIO_MESSAGING_SERVICE_SID: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a Messaging Service SID')
    .optional(),
  TWILIO_API_BASE: url.default('https://api.twilio.com'),
  RATE_LIMIT_OVERRIDES: RateLimitOverrides.optional(),
  // The product-wide ceiling on sign-in texts per hour (SPEC §1): the SMS bill's worst case.
  SMS_HOURLY_BUDGET: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .positive('must be at least 1')
    .default(500),
  // Calling codes texts may go to, e.g. `1,44`; unset = every country.
  SMS_ALLOWED_COUNTRIES: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((code) => code.trim().replace(/^\+/, ''))
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .regex(/^[1-9]\d{0,2}$/, 'must be calling codes like 1,44,49'),
        )
        .min(1, 'must list at least one calling code, or be unset'),
    )
    .optional(),
  // 100ms (app/services/hms.server.ts). Optional outside production: without them the room page
  // says video is not configured. `npm run dev` points them at the local fake (tests/fakes/hms.mjs).
  HMS_API_BASE: url.default('https://api.100ms.live'),
  HMS_ACCESS_KEY: z.string().min(1, 'is required').optional(),
  HMS_SECRET: secret.optional(),
  HMS_TEMPLATE_ID: z
    .string()
    .regex(/^[A-Za-z0-9]+$/, 'must be a 100ms template id')
    .optional(),
  // Where 100ms POSTs the events of the rooms we create: the webhooks Worker's /webhooks/100ms.
  HMS_WEBHOOK_URL: url.optional(),
  // The app sets it as the rooms' webhook header; the webhooks Worker checks it.
  HMS_WEBHOOK_SECRET: secret.optional(),
  // Concurrent viewers above which new viewers watch HLS instead of joining WebRTC (SPEC §2).
  HLS_VIEWER_THRESHOLD: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .default(20),
})

const WebhooksEnvSchema = CommonEnv.extend({
  HMS_WEBHOOK_SECRET: secret,
  HMS_WEBHOOK_SECRET_NEXT: secret.optional(),
})

export type AppEnv = z.infer<typeof AppEnvSchema>
export type WebhooksEnv = z.infer<typeof WebhooksEnvSchema>
type AnyEnv = z.infer<typeof CommonEnv> & Partial<AppEnv> & Partial<WebhooksEnv>

type Issue = { path: string; message: string }

/** Rules that only production enforces: https everywhere, strong secrets, no development shortcuts. */
function productionIssues(env: AnyEnv): Issue[] {
  if (env.ENVIRONMENT !== 'production') return []
  const issues: Issue[] = []
  if (env.DB_WSPROXY)
    issues.push({
      path: 'DB_WSPROXY',
      message: 'must not be set in production',
    })
  for (const key of [
    'HMS_WEBHOOK_SECRET',
    'HMS_WEBHOOK_SECRET_NEXT',
    'OTP_SECRET',
  ] as const) {
    const value = env[key]
    if (value !== undefined && value.length < 32) {
      issues.push({
        path: key,
        message: 'must be at least 32 characters in production',
      })
    }
  }
  if (env.SESSION_SECRETS?.some((s) => s.length < 32)) {
    issues.push({
      path: 'SESSION_SECRETS',
      message: 'each secret must be at least 32 characters in production',
    })
  }
  for (const key of [
    'SENTRY_DSN',
    'APP_URL',
    'TWILIO_API_BASE',
    'HMS_API_BASE',
    'HMS_WEBHOOK_URL',
  ] as const) {
    const value = env[key]
    if (value && !value.startsWith('https://')) {
      issues.push({ path: key, message: 'must be an https URL in production' })
    }
  }
  // The outbox shows every code to anyone who can reach /dev/outbox: never in production.
  if (env.SMS_PROVIDER === 'outbox') {
    issues.push({
      path: 'SMS_PROVIDER',
      message: 'outbox is for development and tests; use twilio in production',
    })
  }
  return issues
}

function twilioIssues(env: AnyEnv): Issue[] {
  if (env.SMS_PROVIDER !== 'twilio') return []
  const issues: Issue[] = []
  if (!env.TWILIO_ACCOUNT_SID)
    issues.push({
      path: 'TWILIO_ACCOUNT_SID',
      message: 'is required when SMS_PROVIDER=twilio',
    })
  if (!env.TWILIO_AUTH_TOKEN)
    issues.push({
      path: 'TWILIO_AUTH_TOKEN',
      message: 'is required when SMS_PROVIDER=twilio',
    })
  if (!env.TWILIO_FROM === !env.TWILIO_MESSAGING_SERVICE_SID) {
    issues.push({
      path: 'TWILIO_FROM',
      message:
        'set exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID',
    })
  }
  return issues
}

/** Production runs real video: every 100ms variable the app Worker uses must be set. */
function hmsIssues(env: Partial<AppEnv>): Issue[] {
  if (env.ENVIRONMENT !== 'production') return []
  return (
    [
      'HMS_ACCESS_KEY',
      'HMS_SECRET',
      'HMS_TEMPLATE_ID',
      'HMS_WEBHOOK_URL',
      'HMS_WEBHOOK_SECRET',
    ] as const
  )
    .filter((key) => !env[key])
    .map((key) => ({ path: key, message: 'is required in production' }))
}

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'InvalidEnvironmentError'
  }
}

function parseWith<S extends z.ZodType<AnyEnv>>(
  schema: S,
  raw: Record<string, unknown>,
  workerIssues: (env: z.infer<S>) => Issue[] = () => [],
): z.infer<S> {
  // Bindings (Durable Objects, R2) share the object with the variables; only strings are config.
  const strings = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => typeof v === 'string' && v !== ''),
  )
  const result = schema.safeParse(strings)
  const issues: Issue[] = result.success
    ? [
        ...twilioIssues(result.data),
        ...workerIssues(result.data),
        ...productionIssues(result.data),
      ]
    : result.error.issues.map((issue) => ({
        path: issue.path.join('.') || '(root)',
        message: issue.message,
      }))
  if (issues.length > 0)
    throw new InvalidEnvironmentError(
      issues.map((i) => `${i.path} ${i.message}`),
    )
  return result.data as z.infer<S>
}

export function parseAppEnv(raw: Record<string, unknown>): AppEnv {
  return parseWith(AppEnvSchema, raw, hmsIssues)
}

export function parseWebhooksEnv(raw: Record<string, unknown>): WebhooksEnv {
  return parseWith(WebhooksEnvSchema, raw)
}

const caches = new Map<unknown, WeakMap<object, unknown>>()

/** Parses once per bindings object (Workers reuse the same `env` object within an isolate). */
function cached<T>(raw: object, parse: (raw: Record<string, unknown>) => T): T {
  let cache = caches.get(parse)
  if (!cache) caches.set(parse, (cache = new WeakMap()))
  if (!cache.has(raw)) cache.set(raw, parse(raw as Record<string, unknown>))
  return cache.get(raw) as T
}

export const getAppEnv = (raw: object): AppEnv => cached(raw, parseAppEnv)

/**
 * Monitoring's settings alone, for code that must report even when the rest of the configuration
 * is broken or not its concern (a Durable Object). Invalid values fall back to logging only.
 */
export const readMonitoringEnv = (raw: object): MonitoringEnv =>
  cached(raw, parseMonitoringVars)

function parseMonitoringVars(raw: Record<string, unknown>): MonitoringEnv {
  const strings = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => typeof v === 'string' && v !== ''),
  )
  const result = MonitoringEnvSchema.safeParse(strings)
  return result.success ? result.data : MonitoringEnvSchema.parse({})
}
export const getWebhooksEnv = (raw: object): WebhooksEnv =>
  cached(raw, parseWebhooksEnv)
