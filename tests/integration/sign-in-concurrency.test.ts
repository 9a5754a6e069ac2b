import { describe, expect, test } from 'vitest'
import { latestCode, requestCode, uniquePhone, verify } from '../support/auth'
import { useWorkersOnTestDatabase } from '../support/workers'

// The verify limit (10 per 10 minutes per phone) is lifted here so that all 20 attempts reach the
// database. On the embedded PGlite the relay runs one request's connection at a time, so the race
// is real only against a Postgres server (TEST_DATABASE_URL, as in CI).
const stack = useWorkersOnTestDatabase({
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'otp-verify-phone': { limit: 100, periodSeconds: 600 },
  }),
})

// PGlite would pass this test even without the conditional DELETE that decides the race, so it
// proves something only against PostgreSQL; say so instead of passing silently.
const onPostgres = Boolean(process.env.TEST_DATABASE_URL)
if (!onPostgres)
  console.warn(
    'sign-in concurrency test SKIPPED: it needs TEST_DATABASE_URL (a PostgreSQL server); PGlite serialises every request',
  )

describe.skipIf(!onPostgres)('verifying one code many times at once', () => {
  test('20 simultaneous verifications of the right code create exactly one session and one account', async () => {
    const phone = uniquePhone()
    await requestCode(stack.workers, phone)
    const code = await latestCode(stack.workers, phone)

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => verify(stack.workers, phone, code)),
    )

    const statuses = responses.map((r) => r.status).sort()
    expect(statuses).toEqual([200, ...Array(19).fill(400)])
    const losers = await Promise.all(
      responses
        .filter((r) => r.status === 400)
        .map((r) => r.json() as Promise<{ error: { code: string } }>),
    )
    expect(new Set(losers.map((l) => l.error.code))).toEqual(
      new Set(['code_expired']),
    )
    const sessions = await stack.database.query(
      'SELECT s.id FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE u.phone = $1',
      [phone],
    )
    expect(sessions).toHaveLength(1)
    expect(
      await stack.database.query('SELECT id FROM users WHERE phone = $1', [
        phone,
      ]),
    ).toHaveLength(1)
  })
})
