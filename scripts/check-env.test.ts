import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'

// `npm run check:env <file>` as an operator runs it on a production configuration (SPEC §7):
// it refuses the outbox, http URLs and short secrets, naming each problem, and passes a good one.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(path.join(tmpdir(), 'kulti-check-env-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const PRODUCTION = {
  ENVIRONMENT: 'production',
  DATABASE_URL: 'postgresql://kulti@db.kulti.example/kulti',
  APP_URL: 'https://kulti.example',
  SESSION_SECRETS: 'a-production-session-secret-000001',
  OTP_SECRET: 'a-production-otp-secret-0000000001',
  SMS_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: 'AC' + '0123456789abcdef'.repeat(2),
  TWILIO_AUTH_TOKEN: 'a-twilio-auth-token-0123456789',
  TWILIO_FROM: '+15005550006',
  SENTRY_DSN: 'https://key@o1.ingest.sentry.io/1',
  HMS_API_BASE: 'https://api.100ms.live',
  HMS_ACCESS_KEY: '65a0c0ffee00000000000001',
  HMS_SECRET: 'a-production-100ms-app-secret-0123456789',
  HMS_TEMPLATE_ID: '65a0c0ffee00000000000002',
  HMS_WEBHOOK_URL: 'https://webhooks.kulti.example/webhooks/100ms',
  HMS_WEBHOOK_SECRET: 'a-production-webhook-secret-0123456789',
}

function checkEnv(
  vars: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const file = path.join(dir, `production-${crypto.randomUUID()}.env`)
  writeFileSync(
    file,
    Object.entries(vars)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n'),
  )
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['scripts/check-env.mjs', file],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          output: stdout + stderr,
        }),
    )
  })
}

describe(
  'npm run check:env on a production configuration',
  { timeout: 60_000 },
  () => {
    test('a complete one passes', async () => {
      const { code, output } = await checkEnv(PRODUCTION)
      expect(output).toContain('environment OK')
      expect(code).toBe(0)
    })

    test('the outbox, an http URL and short secrets are refused, each named', async () => {
      const { code, output } = await checkEnv({
        ...PRODUCTION,
        SMS_PROVIDER: 'outbox',
        APP_URL: 'http://kulti.example',
        HMS_API_BASE: 'http://api.100ms.live',
        OTP_SECRET: 'only-twenty-chars-xx',
        SESSION_SECRETS:
          'a-production-session-secret-000001,short-but-16-chars',
        HMS_WEBHOOK_SECRET: 'sixteen-chars-ok',
      })
      expect(code).toBe(1)
      for (const problem of [
        'SMS_PROVIDER outbox is for development and tests; use twilio in production',
        'APP_URL must be an https URL in production',
        'HMS_API_BASE must be an https URL in production',
        'OTP_SECRET must be at least 32 characters in production',
        'SESSION_SECRETS each secret must be at least 32 characters in production',
        'HMS_WEBHOOK_SECRET must be at least 32 characters in production',
      ])
        expect(output).toContain(problem)
      // None of the secrets is echoed back.
      expect(output).not.toContain('only-twenty-chars-xx')
      expect(output).not.toContain('short-but-16-chars')
    })
  },
)
