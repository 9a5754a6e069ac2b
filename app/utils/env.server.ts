import * as z from 'zod'

/**
 * The Workers' configuration, validated once per isolate. A missing or malformed variable fails the
 * first request with one message that lists every problem, instead of a confusing error later.
 */
const Environment = z.enum(['development', 'test', 'production'])

const url = z.url({ message: 'must be a URL' })

const BaseEnv = z.object({
  ENVIRONMENT: Environment.default('development'),
  DATABASE_URL: z
    .string({ message: 'is required' })
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  // Loopback WebSocket relay for local Postgres (scripts/lib/ws-relay.mjs); never set in production.
  DB_WSPROXY: z
    .string()
    .regex(/^[\w.-]+:\d+$/, 'must be host:port of the local relay')
    .optional(),
  HMS_WEBHOOK_SECRET: z.string({ message: 'is required' }).min(16, 'must be at least 16 characters'),
  HMS_WEBHOOK_SECRET_NEXT: z.string().min(16, 'must be at least 16 characters').optional(),
  SENTRY_DSN: url.optional(),
  APP_URL: url.optional(),
})

export type Env = z.infer<typeof BaseEnv>

const ProductionRules = BaseEnv.superRefine((env, ctx) => {
  if (env.ENVIRONMENT !== 'production') return
  if (env.DB_WSPROXY) {
    ctx.addIssue({ code: 'custom', path: ['DB_WSPROXY'], message: 'must not be set in production' })
  }
  if (env.HMS_WEBHOOK_SECRET.length < 32) {
    ctx.addIssue({
      code: 'custom',
      path: ['HMS_WEBHOOK_SECRET'],
      message: 'must be at least 32 characters in production',
    })
  }
  for (const key of ['SENTRY_DSN', 'APP_URL'] as const) {
    const value = env[key]
    if (value && !value.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'must be an https URL in production' })
    }
  }
})

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'InvalidEnvironmentError'
  }
}

/** Parses the raw bindings' string variables; throws one error naming every bad variable. */
export function parseEnv(raw: Record<string, unknown>): Env {
  const strings = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => typeof v === 'string' && v !== ''),
  )
  const result = ProductionRules.safeParse(strings)
  if (result.success) return result.data
  throw new InvalidEnvironmentError(
    result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`),
  )
}

const cache = new WeakMap<object, Env>()

/** `parseEnv`, once per bindings object (Workers reuse the same `env` object within an isolate). */
export function getEnv(raw: object): Env {
  let env = cache.get(raw)
  if (!env) {
    env = parseEnv(raw as Record<string, unknown>)
    cache.set(raw, env)
  }
  return env
}
