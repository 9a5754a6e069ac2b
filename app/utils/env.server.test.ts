import { describe, expect, test } from 'vitest'
import { InvalidEnvironmentError, parseEnv } from './env.server'

const VALID = {
  ENVIRONMENT: 'development',
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/kulti',
  HMS_WEBHOOK_SECRET: 'a-development-secret-of-32-chars!',
}

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseEnv(raw)
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error.problems
    throw error
  }
  return []
}

describe('parseEnv', () => {
  test('accepts a complete development environment and ignores bindings', () => {
    const env = parseEnv({ ...VALID, RATE_LIMITER: {}, DB_WSPROXY: '127.0.0.1:5433' })
    expect(env.DATABASE_URL).toBe(VALID.DATABASE_URL)
    expect(env.DB_WSPROXY).toBe('127.0.0.1:5433')
  })

  test('lists every missing or malformed variable in one error', () => {
    expect(problems({ DATABASE_URL: 'mysql://x', SENTRY_DSN: 'not a url' })).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
      'HMS_WEBHOOK_SECRET is required',
      'SENTRY_DSN must be a URL',
    ])
  })

  test('production demands https URLs, strong secrets and no local relay', () => {
    expect(
      problems({
        ...VALID,
        ENVIRONMENT: 'production',
        HMS_WEBHOOK_SECRET: 'sixteen-chars-ok',
        DB_WSPROXY: '127.0.0.1:5433',
        SENTRY_DSN: 'http://key@sentry.example/1',
      }),
    ).toEqual([
      'DB_WSPROXY must not be set in production',
      'HMS_WEBHOOK_SECRET must be at least 32 characters in production',
      'SENTRY_DSN must be an https URL in production',
    ])
  })
})
