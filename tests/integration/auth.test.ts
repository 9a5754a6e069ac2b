import { createHash, createHmac } from 'node:crypto'
import { createCookie } from '@remix-run/cloudflare'
import { describe, expect, test } from 'vitest'
import {
  cookieFrom,
  jsonRequest,
  latestCode,
  requestCode,
  sessionIdFromCookie,
  signUp,
  uniquePhone,
  verify,
} from '../support/auth'
import {
  startWorkers,
  TEST_OTP_SECRET,
  useWorkersOnTestDatabase,
  UNREACHABLE_DATABASE_URL,
} from '../support/workers'

const SESSION_SECRET = 'test-session-secret-0123456789abcdef'

// What a production deployment needs for 100ms (never called by these tests).
const PRODUCTION_HMS = {
  HMS_API_BASE: 'https://api.100ms.live',
  HMS_ACCESS_KEY: 'production-access-key-0123456789',
  HMS_SECRET: 'production-app-secret-0123456789abcdef',
  HMS_TEMPLATE_ID: '63188115d11d6db790c73c60',
  HMS_WEBHOOK_URL: 'https://webhooks.kulti.example/webhooks/100ms',
  HMS_WEBHOOK_SECRET: 'a-production-grade-webhook-secret-0123456789',
}

let ipCounter = 0
/** A fresh client address per test, so the per-IP sending limit only bites where it is tested. */
const freshIp = () => `203.0.113.${++ipCounter}`

const stack = useWorkersOnTestDatabase({
  SESSION_SECRETS: SESSION_SECRET,
})

async function errorOf(response: Response) {
  return (
    (await response.json()) as {
      error: { code: string; message: string; fields?: Record<string, string> }
    }
  ).error
}

async function sessionCount(userId?: string): Promise<number> {
  const rows = await stack.database.query<{ n: number }>(
    userId
      ? 'SELECT count(*)::int AS n FROM auth_sessions WHERE user_id = $1'
      : 'SELECT count(*)::int AS n FROM auth_sessions',
    userId ? [userId] : [],
  )
  return rows[0]!.n
}

describe('one-time codes', () => {
  test('the right code signs a new number in and asks for a profile', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    const sent = await requestCode(stack.workers, phone, ip)
    expect(sent.status).toBe(202)
    const response = await verify(
      stack.workers,
      phone,
      await latestCode(stack.workers, phone),
      ip,
    )
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      user: { id: string; username: null }
      needsProfile: boolean
    }
    expect(body.needsProfile).toBe(true)
    expect(body.user.username).toBeNull()
    const cookie = response.headers.get('Set-Cookie')!
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    // 400 days: the session row (30 days, sliding) decides validity; the cookie just outlives it.
    expect(cookie).toMatch(/Max-Age=34560000/)
  })

  test('codes are stored only as a hash keyed by OTP_SECRET', async () => {
    const phone = uniquePhone()
    await requestCode(stack.workers, phone, freshIp())
    const code = await latestCode(stack.workers, phone)
    const [row] = await stack.database.query<{ code_hash: string }>(
      'SELECT code_hash FROM otp_codes WHERE phone = $1',
      [phone],
    )
    expect(row!.code_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(row!.code_hash).not.toContain(code)
    // Keyed: it is the HMAC under this deployment's secret, and another secret gives another value,
    // so a leaked table cannot be brute-forced over the million codes without the secret.
    const hmac = (secret: string) =>
      createHmac('sha256', secret).update(`${phone}:${code}`).digest('hex')
    expect(row!.code_hash).toBe(hmac(TEST_OTP_SECRET))
    expect(row!.code_hash).not.toBe(hmac('another-otp-secret-0123456789abcdef'))
    expect(row!.code_hash).not.toBe(
      createHash('sha256').update(`${phone}:${code}`).digest('hex'),
    )
  })

  test('five wrong codes kill the code: the right one no longer works', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    await requestCode(stack.workers, phone, ip)
    const code = await latestCode(stack.workers, phone)
    const wrong = code === '000000' ? '111111' : '000000'
    const messages: string[] = []
    for (let i = 0; i < 5; i++) {
      const response = await verify(stack.workers, phone, wrong, ip)
      expect(response.status).toBe(400)
      messages.push((await errorOf(response)).message)
    }
    expect(messages[0]).toBe('That code is not right. 4 tries left.')
    expect(messages[3]).toBe('That code is not right. 1 try left.')
    expect(messages[4]).toMatch(/Too many wrong tries/)
    const late = await verify(stack.workers, phone, code, ip)
    expect(late.status).toBe(400)
    expect((await errorOf(late)).code).toBe('code_expired')
    expect(late.headers.get('Set-Cookie')).toBeNull()
  })

  test('an expired code is refused', async () => {
    const phone = uniquePhone()
    await requestCode(stack.workers, phone, freshIp())
    const code = await latestCode(stack.workers, phone)
    await stack.database.query(
      "UPDATE otp_codes SET expires_at = now() - interval '1 second' WHERE phone = $1",
      [phone],
    )
    const response = await verify(stack.workers, phone, code)
    expect(response.status).toBe(400)
    expect((await errorOf(response)).message).toMatch(/expired/)
  })

  test('a code works once', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    await requestCode(stack.workers, phone, ip)
    const code = await latestCode(stack.workers, phone)
    expect((await verify(stack.workers, phone, code, ip)).status).toBe(200)
    const reused = await verify(stack.workers, phone, code, ip)
    expect(reused.status).toBe(400)
    expect((await errorOf(reused)).code).toBe('code_expired')
  })

  test('a new code invalidates the previous one', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    await requestCode(stack.workers, phone, ip)
    const first = await latestCode(stack.workers, phone)
    // A new code is drawn at random: one more try if it happens to repeat the first (1 in 10^6).
    await requestCode(stack.workers, phone, ip)
    let second = await latestCode(stack.workers, phone)
    if (second === first) {
      await requestCode(stack.workers, phone, ip)
      second = await latestCode(stack.workers, phone)
    }
    expect(second).not.toBe(first)
    expect((await verify(stack.workers, phone, first, ip)).status).toBe(400)
    expect((await verify(stack.workers, phone, second, ip)).status).toBe(200)
  })

  test('phones in local formats are normalised; anything else is a 400 a person understands', async () => {
    const ip = freshIp()
    const normalised = await requestCode(stack.workers, '+1 (555) 987-0001', ip)
    expect(normalised.status).toBe(202)
    expect(await latestCode(stack.workers, '+15559870001')).toMatch(/^\d{6}$/)
    for (const bad of [
      '555-1234',
      'call me',
      '+0123456789',
      '+1234567',
      '+1234567890123456',
      '',
    ]) {
      const response = await requestCode(stack.workers, bad, ip)
      expect(response.status, bad).toBe(400)
      expect((await errorOf(response)).fields?.phone, bad).toMatch(
        /international format|Enter your phone/,
      )
    }
  })
})

describe('sending limits', () => {
  test('the 4th code for one phone within 10 minutes is 429 with Retry-After', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    for (let i = 0; i < 3; i++)
      expect((await requestCode(stack.workers, phone, ip)).status).toBe(202)
    const refused = await requestCode(stack.workers, phone, ip)
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('Retry-After'))
    // The first of the three codes leaves the 10-minute window in (just under) 600 s.
    expect(retryAfter).toBeGreaterThan(590)
    expect(retryAfter).toBeLessThanOrEqual(600)
    expect((await errorOf(refused)).message).toBe(
      'Too many attempts. Try again in 10 minutes.',
    )
  })

  test('one address may ask for 10 codes an hour, whatever the numbers', async () => {
    const ip = freshIp()
    for (let i = 0; i < 10; i++)
      expect((await requestCode(stack.workers, uniquePhone(), ip)).status).toBe(
        202,
      )
    expect((await requestCode(stack.workers, uniquePhone(), ip)).status).toBe(
      429,
    )
    expect(
      (await requestCode(stack.workers, uniquePhone(), freshIp())).status,
    ).toBe(202)
  })

  test('rotating through the addresses of one IPv6 /64 does not get around the per-address limit', async () => {
    const network = `2001:db8:${(++ipCounter).toString(16)}:1`
    for (let i = 1; i <= 10; i++) {
      expect(
        (
          await requestCode(
            stack.workers,
            uniquePhone(),
            `${network}::${i.toString(16)}`,
          )
        ).status,
      ).toBe(202)
    }
    expect(
      (
        await requestCode(
          stack.workers,
          uniquePhone(),
          `${network}:ffff:ffff:ffff:ffff`,
        )
      ).status,
    ).toBe(429)
    expect(
      (
        await requestCode(
          stack.workers,
          uniquePhone(),
          `2001:db8:${(++ipCounter).toString(16)}:1::1`,
        )
      ).status,
    ).toBe(202)
  })

  test('verification attempts are limited per phone (10 per 10 minutes)', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    const statuses: number[] = []
    // Two codes' worth of wrong guesses: 5 kill each code, the limiter stops the 11th attempt.
    for (let round = 0; round < 2; round++) {
      await requestCode(stack.workers, phone, ip)
      for (let i = 0; i < 5; i++)
        statuses.push((await verify(stack.workers, phone, '999999', ip)).status)
    }
    await requestCode(stack.workers, phone, ip)
    const eleventh = await verify(
      stack.workers,
      phone,
      await latestCode(stack.workers, phone),
      ip,
    )
    expect(statuses.every((s) => s === 400)).toBe(true)
    expect(eleventh.status).toBe(429)
    expect(eleventh.headers.get('Retry-After')).toBeTruthy()
  })
})

describe('session cookies', () => {
  test('a signed-in user reads their own profile; signing out ends the session', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    const me = await user.get('/api/me')
    expect(me.status).toBe(200)
    expect(((await me.json()) as { user: { id: string } }).user.id).toBe(
      user.userId,
    )
    expect(await sessionCount(user.userId)).toBe(1)

    const out = await user.send('POST', '/api/auth/logout')
    expect(out.status).toBe(200)
    expect(out.headers.get('Set-Cookie')).toMatch(/Max-Age=0/)
    expect(await sessionCount(user.userId)).toBe(0)
    expect((await user.get('/api/me')).status).toBe(401)
  })

  test('a forged, unsigned, tampered or expired cookie counts as signed out', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    // Built around the real session id, so only the signature check stands between them and a
    // session: without it, the unsigned and forged cookies would be accepted.
    const sessionId = sessionIdFromCookie(user.cookie)
    const forger = createCookie('kulti_session', {
      secrets: ['an-attacker-guessed-this-secret!!'],
    })
    const cookies = {
      unsigned: `kulti_session=${btoa(JSON.stringify(sessionId))}`,
      forged: (await forger.serialize(sessionId)).split(';')[0]!,
      tampered: user.cookie.slice(0, -3) + 'AAA',
      garbage: 'kulti_session=%%%not-a-cookie',
    }
    for (const [kind, cookie] of Object.entries(cookies)) {
      const response = await stack.workers.app('/api/me', {
        headers: { Cookie: cookie },
      })
      expect(response.status, kind).toBe(401)
    }
    expect((await user.get('/api/me')).status).toBe(200)
    await stack.database.query(
      "UPDATE auth_sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1",
      [user.userId],
    )
    expect((await user.get('/api/me')).status).toBe(401)
  })

  test('expiry slides forward while the session is used', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    await stack.database.query(
      "UPDATE auth_sessions SET last_seen_at = now() - interval '1 hour', expires_at = now() + interval '1 day' WHERE user_id = $1",
      [user.userId],
    )
    expect((await user.get('/api/me')).status).toBe(200)
    const [row] = await stack.database.query<{ days: number }>(
      'SELECT extract(epoch FROM expires_at - now()) / 86400 AS days FROM auth_sessions WHERE user_id = $1',
      [user.userId],
    )
    expect(Number(row!.days)).toBeGreaterThan(29.9)
  })

  test('secrets rotate: a cookie signed with the previous secret still works; a retired one does not', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    const rotated = await startWorkers({
      DATABASE_URL: stack.database.databaseUrl,
      DB_WSPROXY: stack.database.wsProxy,
      SESSION_SECRETS: `the-new-session-secret-0123456789,${SESSION_SECRET}`,
    })
    const retired = await startWorkers({
      DATABASE_URL: stack.database.databaseUrl,
      DB_WSPROXY: stack.database.wsProxy,
      SESSION_SECRETS: 'the-new-session-secret-0123456789',
    })
    try {
      expect(
        (await rotated.app('/api/me', { headers: { Cookie: user.cookie } }))
          .status,
      ).toBe(200)
      expect(
        (await retired.app('/api/me', { headers: { Cookie: user.cookie } }))
          .status,
      ).toBe(401)
    } finally {
      await rotated.dispose()
      await retired.dispose()
    }
  })
})

describe('cross-site requests', () => {
  test('a mutation with a foreign Origin is 403 and changes nothing', async () => {
    const user = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username: `x${Date.now() % 1e8}`, displayName: 'Before' },
    })
    const response = await stack.workers.app(
      '/api/me',
      jsonRequest(
        'PUT',
        { displayName: 'Hacked' },
        { Cookie: user.cookie, Origin: 'https://evil.example' },
      ),
    )
    expect(response.status).toBe(403)
    expect((await errorOf(response)).code).toBe('cross_origin')
    const me = (await (await user.get('/api/me')).json()) as {
      user: { displayName: string }
    }
    expect(me.user.displayName).toBe('Before')
  })

  test('a form post without an Origin (not JSON) is 403; our own Origin is fine', async () => {
    const form = await stack.workers.app('/api/auth/otp/send', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'phone=%2B15550001111',
    })
    expect(form.status).toBe(403)
    const ours = await stack.workers.app(
      '/api/auth/otp/send',
      jsonRequest(
        'POST',
        { phone: uniquePhone() },
        { Origin: 'http://127.0.0.1:8787', 'CF-Connecting-IP': freshIp() },
      ),
    )
    expect(ours.status).toBe(202)
  })
})

describe('profiles', () => {
  test('completing a profile: usernames are unique whatever their case', async () => {
    const ada = await signUp(stack.workers, { ip: freshIp() })
    const taken = `ada${Date.now() % 1e6}`
    const first = await ada.send('PUT', '/api/me', {
      username: taken.toUpperCase(),
      displayName: 'Ada',
    })
    expect(first.status).toBe(200)
    expect(
      ((await first.json()) as { user: { username: string } }).user.username,
    ).toBe(taken)

    const copycat = await signUp(stack.workers, { ip: freshIp() })
    const clash = await copycat.send('PUT', '/api/me', {
      username: taken,
      displayName: 'Copy',
    })
    expect(clash.status).toBe(409)
    expect((await errorOf(clash)).fields?.username).toMatch(/taken/)
  })

  test('invalid fields are 400 with a message per field, and nothing changes', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    const response = await user.send('PUT', '/api/me', {
      username: 'no spaces allowed',
      displayName: 'x'.repeat(51),
      bio: 'b'.repeat(281),
      avatarUrl: 'http://insecure.example/me.png',
    })
    expect(response.status).toBe(400)
    const { fields } = await errorOf(response)
    expect(fields).toEqual({
      username: 'Use only letters, digits, _ and -.',
      displayName: 'Display names are at most 50 characters.',
      bio: 'Bios are at most 280 characters.',
      avatarUrl: 'Use an https:// link to an image, or leave it empty.',
    })
    const me = (await (await user.get('/api/me')).json()) as {
      user: { username: string | null }
    }
    expect(me.user.username).toBeNull()
  })

  test('a new account must pick both a username and a display name', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    const response = await user.send('PUT', '/api/me', { bio: 'hello' })
    expect(response.status).toBe(400)
    expect(Object.keys((await errorOf(response)).fields ?? {}).sort()).toEqual([
      'displayName',
      'username',
    ])
  })

  test('unknown fields are dropped: nobody edits their id or credits', async () => {
    const user = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username: `u${Date.now() % 1e8}`, displayName: 'U' },
    })
    const response = await user.send('PUT', '/api/me', {
      id: '00000000-0000-0000-0000-000000000000',
      credits: 1e6,
      bio: 'ok',
    })
    expect(response.status).toBe(200)
    const me = (await response.json()) as {
      user: { id: string; credits: number; bio: string }
    }
    // 100: the welcome bonus for completing the profile, nothing from the body.
    expect(me.user).toMatchObject({ id: user.userId, credits: 100, bio: 'ok' })
  })

  test('prototype-polluting keys and oversized bodies are refused', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    const polluted = await stack.workers.app('/api/me', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Cookie: user.cookie },
      body: '{"__proto__": {"admin": true}, "bio": "x"}',
    })
    expect(polluted.status).toBe(400)
    const huge = await user.send('PUT', '/api/me', { bio: 'x'.repeat(20_000) })
    expect(huge.status).toBe(413)
  })

  test('signed out, /api/me is 401 in the JSON error shape', async () => {
    const response = await stack.workers.app('/api/me')
    expect(response.status).toBe(401)
    expect(await errorOf(response)).toEqual({
      code: 'unauthenticated',
      message: 'Sign in first.',
    })
  })
})

describe('privacy', () => {
  test('no response and no log line carries the code or the full phone number', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    const bodies: string[] = []
    const sent = await requestCode(stack.workers, phone, ip)
    bodies.push(await sent.text())
    const code = await latestCode(stack.workers, phone)
    const wrong = await verify(
      stack.workers,
      phone,
      code === '123456' ? '654321' : '123456',
      ip,
    )
    bodies.push(await wrong.text())
    const verified = await verify(stack.workers, phone, code, ip)
    const cookie = cookieFrom(verified)
    bodies.push(await verified.text())
    const me = await stack.workers.app('/api/me', {
      headers: { Cookie: cookie },
    })
    bodies.push(await me.text())
    await new Promise((resolve) => setTimeout(resolve, 200))
    const logs = stack.workers.logs()
    expect(logs.some((line) => line.includes('sign-in code sent'))).toBe(true)
    for (const text of [...bodies, ...logs]) {
      expect(text).not.toContain(code)
      expect(text).not.toContain(phone)
      expect(text).not.toContain(phone.slice(1))
    }
  })
})

describe('when the database fails', () => {
  test('sign-in answers a JSON 500, and the error reported names no phone and no code', async () => {
    const broken = await startWorkers({
      DATABASE_URL: UNREACHABLE_DATABASE_URL,
      DB_WSPROXY: stack.database.wsProxy,
    })
    try {
      const phone = uniquePhone()
      const sent = await broken.app(
        '/api/auth/otp/send',
        jsonRequest('POST', { phone }, { 'CF-Connecting-IP': freshIp() }),
      )
      expect(sent.status).toBe(500)
      expect(await errorOf(sent)).toEqual({
        code: 'internal_error',
        message: 'Something went wrong on our side. Please try again.',
      })
      const verified = await broken.app(
        '/api/auth/otp/verify',
        jsonRequest('POST', { phone, code: '123456' }),
      )
      expect(verified.status).toBe(500)
      await new Promise((resolve) => setTimeout(resolve, 200))
      const logs = broken.logs().join('\n')
      // The failure is reported (with the query that failed)…
      expect(logs).toMatch(/"level":"error"/)
      expect(logs).toContain('otp_codes')
      // …but not what it was called with.
      expect(logs).not.toContain(phone)
      expect(logs).not.toContain(phone.slice(1))
      expect(logs).not.toContain('123456')
      expect(logs).not.toContain('hunter2')
    } finally {
      await broken.dispose()
    }
  })
})

describe('wrong methods', () => {
  test('are 405 naming the method to use, in the JSON error shape', async () => {
    const cases: Array<[string, string, string]> = [
      ['GET', '/api/auth/otp/send', 'POST'],
      ['GET', '/api/auth/otp/verify', 'POST'],
      ['GET', '/api/auth/logout', 'POST'],
      ['POST', '/api/health', 'GET, HEAD'],
      ['POST', '/dev/outbox.json', 'GET, HEAD'],
      ['PATCH', '/api/me', 'GET, PUT, DELETE, HEAD'],
    ]
    for (const [method, path, allowed] of cases) {
      const response = await stack.workers.app(
        path,
        method === 'GET' ? {} : jsonRequest(method, {}),
      )
      expect(response.status, `${method} ${path}`).toBe(405)
      expect(response.headers.get('Allow')).toBe(allowed)
      expect((await errorOf(response)).code).toBe('method_not_allowed')
    }
  })
})

describe('the SMS outbox', () => {
  test('cannot be enabled in production: the deployment refuses to run and no code is "sent"', async () => {
    const production = await startWorkers({
      DATABASE_URL: stack.database.databaseUrl,
      DB_WSPROXY: stack.database.wsProxy,
      ENVIRONMENT: 'production',
      SMS_PROVIDER: 'outbox',
      SESSION_SECRETS: 'a-production-grade-session-secret-0123456789',
      OTP_SECRET: 'a-production-grade-otp-secret-0123456789',
    })
    try {
      const before = await stack.database.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sms_outbox',
      )
      const send = await production.app(
        '/api/auth/otp/send',
        jsonRequest('POST', { phone: uniquePhone() }),
      )
      expect(send.status).toBe(500)
      expect((await errorOf(send)).code).toBe('misconfigured')
      expect((await production.app('/dev/outbox.json')).status).not.toBe(200)
      expect((await production.app('/dev/outbox')).status).not.toBe(200)
      const after = await stack.database.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sms_outbox',
      )
      expect(after[0]!.n).toBe(before[0]!.n)
      expect(production.logs().join('\n')).toContain(
        'SMS_PROVIDER outbox is for development and tests',
      )
    } finally {
      await production.dispose()
    }
  })

  test('is 404 whenever another provider is active, in development and in production', async () => {
    const twilio = {
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
      TWILIO_AUTH_TOKEN: 'not-used-in-this-test-000',
      TWILIO_FROM: '+15005550006',
    }
    const development = await startWorkers({
      DATABASE_URL: stack.database.databaseUrl,
      DB_WSPROXY: stack.database.wsProxy,
      ...twilio,
    })
    // Production refuses the local relay, and these pages must answer without the database anyway.
    const production = await startWorkers({
      DATABASE_URL: 'postgresql://kulti@127.0.0.1:9/kulti',
      ENVIRONMENT: 'production',
      SESSION_SECRETS: 'a-production-grade-session-secret-0123456789',
      OTP_SECRET: 'a-production-grade-otp-secret-0123456789',
      ...twilio,
      ...PRODUCTION_HMS,
    })
    try {
      for (const deployment of [development, production]) {
        expect((await deployment.app('/dev/outbox.json')).status).toBe(404)
        expect((await deployment.app('/dev/outbox')).status).toBe(404)
      }
    } finally {
      await development.dispose()
      await production.dispose()
    }
  })
})

describe('session storage', () => {
  test('the database holds only a hash of the id the cookie carries', async () => {
    const user = await signUp(stack.workers, { ip: freshIp() })
    const [row] = await stack.database.query<{ id: string }>(
      'SELECT id FROM auth_sessions WHERE user_id = $1',
      [user.userId],
    )
    expect(row!.id).toMatch(/^[0-9a-f]{64}$/)
    // The cookie's value is the signed, encoded id; neither it nor its decoded id is what is stored.
    const sessionId = sessionIdFromCookie(user.cookie)
    expect(sessionId).not.toBe(row!.id)
    const digest = await crypto.subtle.digest(
      'SHA-256',
      new TextEncoder().encode(sessionId),
    )
    expect(Buffer.from(digest).toString('hex')).toBe(row!.id)
    // A cookie forged from what the table holds is not a session.
    const forger = createCookie('kulti_session', {
      secrets: ['test-session-secret-0123456789abcdef'],
    })
    const fromTable = (await forger.serialize(row!.id)).split(';')[0]!
    expect(
      (await stack.workers.app('/api/me', { headers: { Cookie: fromTable } }))
        .status,
    ).toBe(401)
  })

  test('over https the cookie is __Host-kulti_session: Secure, Path=/, no Domain, and it signs in', async () => {
    const https = await startWorkers(
      {
        DATABASE_URL: stack.database.databaseUrl,
        DB_WSPROXY: stack.database.wsProxy,
        SESSION_SECRETS: SESSION_SECRET,
      },
      { baseUrl: 'https://kulti.example' },
    )
    try {
      const phone = uniquePhone()
      expect((await requestCode(https, phone, freshIp())).status).toBe(202)
      const verified = await verify(
        https,
        phone,
        await latestCode(https, phone),
        freshIp(),
      )
      expect(verified.status).toBe(200)
      const setCookie = verified.headers.get('Set-Cookie')!
      expect(setCookie).toMatch(/^__Host-kulti_session=/)
      expect(setCookie).toMatch(/; Secure/)
      expect(setCookie).toMatch(/; Path=\//)
      expect(setCookie).not.toMatch(/Domain=/i)
      const cookie = setCookie.split(';')[0]!
      expect(
        (await https.app('/api/me', { headers: { Cookie: cookie } })).status,
      ).toBe(200)
      // The plain name is not read over https: a cookie planted without the prefix is no session.
      const planted = cookie.replace(/^__Host-/, '')
      expect(
        (await https.app('/api/me', { headers: { Cookie: planted } })).status,
      ).toBe(401)
    } finally {
      await https.dispose()
    }
  })
})
