import { describe, expect, test } from 'vitest'
import {
  InvalidEnvironmentError,
  parseAppEnv,
  parseWebhooksEnv,
} from './env.server'

const APP = {
  ENVIRONMENT: 'development',
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/kulti',
  SESSION_SECRETS:
    'a-development-session-secret-0001, an-older-session-secret-0000',
  OTP_SECRET: 'a-development-otp-secret-00000001',
  SMS_PROVIDER: 'outbox',
}

const PRODUCTION_APP = {
  ...APP,
  ENVIRONMENT: 'production',
  SESSION_SECRETS: 'a-production-session-secret-000001',
  OTP_SECRET: 'a-production-otp-secret-0000000001',
  SMS_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: 'AC' + '0123456789abcdef'.repeat(2),
  TWILIO_AUTH_TOKEN: 'a-twilio-auth-token-0123456789',
  TWILIO_FROM: '+15005550006',
  HMS_ACCESS_KEY: '65a0c0ffee00000000000001',
  HMS_SECRET: 'a-production-100ms-app-secret-0123456789',
  HMS_TEMPLATE_ID: '65a0c0ffee00000000000002',
  HMS_WEBHOOK_URL: 'https://webhooks.kulti.example/webhooks/100ms',
  HMS_WEBHOOK_SECRET: 'a-production-webhook-secret-0123456789',
}

function problems(
  parse: (raw: Record<string, unknown>) => unknown,
  raw: Record<string, unknown>,
): string[] {
  try {
    parse(raw)
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error.problems
    throw error
  }
  return []
}

describe('parseAppEnv', () => {
  test('accepts a complete development environment and ignores bindings', () => {
    const env = parseAppEnv({
      ...APP,
      RATE_LIMITER: {},
      DB_WSPROXY: '127.0.0.1:5433',
    })
    expect(env.DATABASE_URL).toBe(APP.DATABASE_URL)
    expect(env.DB_WSPROXY).toBe('127.0.0.1:5433')
    expect(env.SESSION_SECRETS).toEqual([
      'a-development-session-secret-0001',
      'an-older-session-secret-0000',
    ])
  })

  test('lists every missing or malformed variable in one error', () => {
    expect(
      problems(parseAppEnv, {
        DATABASE_URL: 'mysql://x',
        SENTRY_DSN: 'not a url',
        SMS_PROVIDER: 'pigeon',
      }),
    ).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
      'SENTRY_DSN must be a URL',
      'SESSION_SECRETS is required',
      'OTP_SECRET is required',
      'SMS_PROVIDER must be twilio or outbox',
    ])
  })

  test('twilio needs its credentials and exactly one sender', () => {
    expect(problems(parseAppEnv, { ...APP, SMS_PROVIDER: 'twilio' })).toEqual([
      'TWILIO_ACCOUNT_SID is required when SMS_PROVIDER=twilio',
      'TWILIO_AUTH_TOKEN is required when SMS_PROVIDER=twilio',
      'TWILIO_FROM set exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID',
    ])
  })

  test('accepts a complete production environment', () => {
    expect(problems(parseAppEnv, PRODUCTION_APP)).toEqual([])
  })

  test('the SMS outbox cannot be enabled in production', () => {
    expect(
      problems(parseAppEnv, { ...PRODUCTION_APP, SMS_PROVIDER: 'outbox' }),
    ).toEqual([
      'SMS_PROVIDER outbox is for development and tests; use twilio in production',
    ])
  })

  test('production demands https URLs, strong secrets and no local relay', () => {
    expect(
      problems(parseAppEnv, {
        ...PRODUCTION_APP,
        OTP_SECRET: 'sixteen-chars-ok',
        SESSION_SECRETS:
          'a-production-session-secret-000001,short-but-16-chars',
        DB_WSPROXY: '127.0.0.1:5433',
        SENTRY_DSN: 'http://key@sentry.example/1',
      }),
    ).toEqual([
      'DB_WSPROXY must not be set in production',
      'OTP_SECRET must be at least 32 characters in production',
      'SESSION_SECRETS each secret must be at least 32 characters in production',
      'SENTRY_DSN must be an https URL in production',
    ])
  })

  test('100ms is optional outside production, with defaults for the API and the HLS threshold', () => {
    const env = parseAppEnv(APP)
    expect(env.HMS_API_BASE).toBe('https://api.100ms.live')
    expect(env.HMS_ACCESS_KEY).toBeUndefined()
    expect(env.HLS_VIEWER_THRESHOLD).toBe(20)
    const local = parseAppEnv({
      ...APP,
      HMS_API_BASE: 'http://127.0.0.1:8790',
      HMS_ACCESS_KEY: 'kulti-dev-hms-access-key',
      HMS_SECRET: 'kulti-dev-hms-app-secret-0123456789',
      HMS_TEMPLATE_ID: '65a0c0ffee0000000000dev1',
      HMS_WEBHOOK_URL: 'http://127.0.0.1:8788/webhooks/100ms',
      HMS_WEBHOOK_SECRET: 'kulti-dev-webhook-secret-0123456789',
      HLS_VIEWER_THRESHOLD: '3',
    })
    expect(local.HMS_API_BASE).toBe('http://127.0.0.1:8790')
    expect(local.HLS_VIEWER_THRESHOLD).toBe(3)
  })

  test('100ms variables are checked for shape', () => {
    expect(
      problems(parseAppEnv, {
        ...APP,
        HMS_API_BASE: 'api.100ms.live',
        HMS_SECRET: 'short',
        HMS_TEMPLATE_ID: 'not a template',
        HMS_WEBHOOK_URL: 'webhooks',
        HMS_WEBHOOK_SECRET: 'short',
        HLS_VIEWER_THRESHOLD: '0',
      }),
    ).toEqual([
      'HMS_API_BASE must be a URL',
      'HMS_SECRET must be at least 16 characters',
      'HMS_TEMPLATE_ID must be a 100ms template id',
      'HMS_WEBHOOK_URL must be a URL',
      'HMS_WEBHOOK_SECRET must be at least 16 characters',
      'HLS_VIEWER_THRESHOLD must be at least 1',
    ])
    expect(
      problems(parseAppEnv, { ...APP, HLS_VIEWER_THRESHOLD: 'many' }),
    ).toEqual(['HLS_VIEWER_THRESHOLD must be a whole number'])
  })

  test('production needs every 100ms variable, over https, with a strong webhook secret', () => {
    const {
      HMS_ACCESS_KEY: _key,
      HMS_SECRET: _secret,
      HMS_TEMPLATE_ID: _template,
      HMS_WEBHOOK_URL: _url,
      HMS_WEBHOOK_SECRET: _webhookSecret,
      ...withoutHms
    } = PRODUCTION_APP
    expect(problems(parseAppEnv, withoutHms)).toEqual([
      'HMS_ACCESS_KEY is required in production',
      'HMS_SECRET is required in production',
      'HMS_TEMPLATE_ID is required in production',
      'HMS_WEBHOOK_URL is required in production',
      'HMS_WEBHOOK_SECRET is required in production',
    ])
    expect(
      problems(parseAppEnv, {
        ...PRODUCTION_APP,
        HMS_API_BASE: 'http://127.0.0.1:8790',
        HMS_WEBHOOK_URL: 'http://127.0.0.1:8788/webhooks/100ms',
        HMS_WEBHOOK_SECRET: 'sixteen-chars-ok',
      }),
    ).toEqual([
      'HMS_WEBHOOK_SECRET must be at least 32 characters in production',
      'HMS_API_BASE must be an https URL in production',
      'HMS_WEBHOOK_URL must be an https URL in production',
    ])
  })

  test('rate limit overrides must be well-formed JSON', () => {
    expect(
      parseAppEnv({
        ...APP,
        RATE_LIMIT_OVERRIDES:
          '{"otp-send-ip":{"limit":100,"periodSeconds":60}}',
      }).RATE_LIMIT_OVERRIDES,
    ).toEqual({
      'otp-send-ip': { limit: 100, periodSeconds: 60 },
    })
    expect(
      problems(parseAppEnv, { ...APP, RATE_LIMIT_OVERRIDES: '{nope' }),
    ).toEqual(['RATE_LIMIT_OVERRIDES must be JSON'])
    const typo = problems(parseAppEnv, {
      ...APP,
      RATE_LIMIT_OVERRIDES:
        '{"otp-send-phnoe":{"limit":100,"periodSeconds":60}}',
    })
    expect(typo).toHaveLength(1)
    expect(typo[0]).toMatch(
      /^RATE_LIMIT_OVERRIDES Unrecognized key.*otp-send-phnoe/,
    )
  })
})

describe('parseWebhooksEnv', () => {
  test('needs only the database and the webhook secret', () => {
    const env = parseWebhooksEnv({
      DATABASE_URL: APP.DATABASE_URL,
      HMS_WEBHOOK_SECRET: 'sixteen-chars-ok',
    })
    expect(env.HMS_WEBHOOK_SECRET).toBe('sixteen-chars-ok')
    expect(
      problems(parseWebhooksEnv, { DATABASE_URL: APP.DATABASE_URL }),
    ).toEqual(['HMS_WEBHOOK_SECRET is required'])
  })

  test('production demands a 32-character webhook secret', () => {
    expect(
      problems(parseWebhooksEnv, {
        ENVIRONMENT: 'production',
        DATABASE_URL: APP.DATABASE_URL,
        HMS_WEBHOOK_SECRET: 'sixteen-chars-ok',
      }),
    ).toEqual([
      'HMS_WEBHOOK_SECRET must be at least 32 characters in production',
    ])
  })
})
