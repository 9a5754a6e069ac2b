import { describe, expect, test } from 'vitest'
import {
  cookieFrom,
  latestCode,
  requestCode,
  signUp,
  uniquePhone,
  verify,
} from '../support/auth'
import { useWorkersOnTestDatabase } from '../support/workers'

// Account-level actions of /settings, posted as the page's form would be, checked in the database.
// One phone signs in several times here; the per-phone sending limit is tested in auth.test.ts.
const stack = useWorkersOnTestDatabase({
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'otp-send-phone': { limit: 10, periodSeconds: 600 },
  }),
})
const ORIGIN = 'http://127.0.0.1:8787'
let ipCounter = 0
const freshIp = () => `198.18.0.${++ipCounter}`

function postForm(
  path: string,
  cookie: string,
  fields: Record<string, string>,
) {
  return stack.workers.app(path, {
    method: 'POST',
    headers: {
      Cookie: cookie,
      Origin: ORIGIN,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  })
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await stack.database.query<{ n: number }>(sql, params)
  return row!.n
}

/** A second signed-in browser for the same phone. */
async function signInAgain(phone: string, ip: string): Promise<string> {
  await requestCode(stack.workers, phone, ip)
  return cookieFrom(
    await verify(
      stack.workers,
      phone,
      await latestCode(stack.workers, phone),
      ip,
    ),
  )
}

describe('deleting an account', () => {
  test('a wrong confirmation deletes nothing', async () => {
    const username = `keep${Date.now() % 1e8}`
    const user = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username, displayName: 'Keeper' },
    })
    const response = await postForm('/settings', user.cookie, {
      intent: 'delete',
      confirm: username.toUpperCase(),
    })
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('exactly as shown')
    expect(
      await count(
        'SELECT count(*)::int AS n FROM users WHERE id = $1 AND deleted_at IS NULL',
        [user.userId],
      ),
    ).toBe(1)
    expect((await user.get('/api/me')).status).toBe(200)
  })

  test('removes personal data, every session and code, in one go; the number can sign up afresh', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    const username = `gone${Date.now() % 1e8}`
    const user = await signUp(stack.workers, {
      phone,
      ip,
      profile: { username, displayName: 'Soon Gone' },
    })
    await user.send('PUT', '/api/me', {
      bio: 'about me',
      avatarUrl: 'https://example.com/me.png',
    })
    const otherBrowser = await signInAgain(phone, ip)
    await requestCode(stack.workers, phone, ip) // an outstanding code, never used
    expect(
      await count(
        'SELECT count(*)::int AS n FROM auth_sessions WHERE user_id = $1',
        [user.userId],
      ),
    ).toBe(2)

    const response = await postForm('/settings', user.cookie, {
      intent: 'delete',
      confirm: username,
    })
    expect(response.status).toBe(302)
    expect(response.headers.get('Location')).toBe('/?deleted=1')
    expect(response.headers.get('Set-Cookie')).toMatch(/Max-Age=0/)

    const [row] = await stack.database.query<Record<string, unknown>>(
      'SELECT phone, username, display_name, bio, avatar_url, deleted_at FROM users WHERE id = $1',
      [user.userId],
    )
    expect(row).toMatchObject({
      phone: null,
      username: null,
      display_name: null,
      bio: '',
      avatar_url: null,
    })
    expect(row!.deleted_at).not.toBeNull()
    expect(
      await count(
        'SELECT count(*)::int AS n FROM auth_sessions WHERE user_id = $1',
        [user.userId],
      ),
    ).toBe(0)
    expect(
      await count('SELECT count(*)::int AS n FROM otp_codes WHERE phone = $1', [
        phone,
      ]),
    ).toBe(0)
    expect(
      (
        await stack.workers.app('/api/me', {
          headers: { Cookie: otherBrowser },
        })
      ).status,
    ).toBe(401)
    expect((await stack.workers.app(`/u/${username}`)).status).toBe(404)

    // The number and the username are free again; the new account is a different person.
    const again = await signUp(stack.workers, {
      phone,
      ip: freshIp(),
      profile: { username, displayName: 'New' },
    })
    expect(again.userId).not.toBe(user.userId)
  })

  test("nobody can delete another person's account: the form acts only on the signed-in user", async () => {
    const victimName = `victim${Date.now() % 1e8}`
    const victim = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username: victimName, displayName: 'V' },
    })
    const attacker = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username: `att${Date.now() % 1e8}`, displayName: 'A' },
    })
    const response = await postForm('/settings', attacker.cookie, {
      intent: 'delete',
      confirm: victimName,
    })
    expect(response.status).toBe(400)
    expect((await victim.get('/api/me')).status).toBe(200)
    expect((await attacker.get('/api/me')).status).toBe(200)
  })

  test('a cross-site form post is refused before anything happens', async () => {
    const username = `csrf${Date.now() % 1e8}`
    const user = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username, displayName: 'C' },
    })
    const response = await stack.workers.app('/settings', {
      method: 'POST',
      headers: {
        Cookie: user.cookie,
        Origin: 'https://evil.example',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        intent: 'delete',
        confirm: username,
      }).toString(),
      redirect: 'manual',
    })
    expect(response.status).toBe(403)
    expect((await user.get('/api/me')).status).toBe(200)
  })
})

describe('signing out everywhere', () => {
  test('ends every session of the user and no one else’s', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    const user = await signUp(stack.workers, {
      phone,
      ip,
      profile: { username: `everywhere${Date.now() % 1e7}`, displayName: 'E' },
    })
    const laptop = await signInAgain(phone, ip)
    const bystander = await signUp(stack.workers, { ip: freshIp() })

    const response = await postForm('/settings', user.cookie, {
      intent: 'signout-everywhere',
    })
    expect(response.status).toBe(302)
    expect(response.headers.get('Location')).toBe('/login')
    expect((await user.get('/api/me')).status).toBe(401)
    expect(
      (await stack.workers.app('/api/me', { headers: { Cookie: laptop } }))
        .status,
    ).toBe(401)
    expect((await bystander.get('/api/me')).status).toBe(200)
  })
})

describe('form bodies', () => {
  test('an oversized form post is 413 and changes nothing', async () => {
    const user = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username: `big${Date.now() % 1e8}`, displayName: 'Big' },
    })
    const response = await postForm('/settings', user.cookie, {
      intent: 'profile',
      displayName: 'X',
      bio: 'x'.repeat(70_000),
    })
    expect(response.status).toBe(413)
    const me = (await (await user.get('/api/me')).json()) as {
      user: { displayName: string }
    }
    expect(me.user.displayName).toBe('Big')
  })
})

describe('an account that never chose a username', () => {
  test('deletes itself with DELETE /api/me, confirmed by the last 4 digits, leaving no phone number behind', async () => {
    const phone = uniquePhone()
    const user = await signUp(stack.workers, { phone, ip: freshIp() })

    const wrong = await user.send('DELETE', '/api/me', {
      confirm: phone.slice(-5, -1),
    })
    expect(wrong.status).toBe(400)
    expect((await wrong.json()) as unknown).toMatchObject({
      error: { code: 'confirmation_mismatch' },
    })
    expect((await user.get('/api/me')).status).toBe(200)

    const deleted = await user.send('DELETE', '/api/me', {
      confirm: phone.slice(-4),
    })
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get('Set-Cookie')).toMatch(/Max-Age=0/)
    expect((await user.get('/api/me')).status).toBe(401)
    // Nowhere in the database does the number remain: not the account, not a code, not a text.
    for (const [table, column] of [
      ['users', 'phone'],
      ['otp_codes', 'phone'],
      ['sms_outbox', '"to"'],
    ] as const) {
      expect(
        await count(
          `SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`,
          [phone],
        ),
        table,
      ).toBe(0)
    }
    expect(
      await count(
        'SELECT count(*)::int AS n FROM users WHERE id = $1 AND deleted_at IS NOT NULL',
        [user.userId],
      ),
    ).toBe(1)
  })

  test('deletes itself from the /welcome form', async () => {
    const phone = uniquePhone()
    const user = await signUp(stack.workers, { phone, ip: freshIp() })
    const refused = await postForm('/welcome', user.cookie, {
      intent: 'delete',
      confirm: '0000' === phone.slice(-4) ? '1111' : '0000',
    })
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain('last 4 digits')
    expect((await user.get('/api/me')).status).toBe(200)

    const response = await postForm('/welcome', user.cookie, {
      intent: 'delete',
      confirm: phone.slice(-4),
    })
    expect(response.status).toBe(302)
    expect(response.headers.get('Location')).toBe('/?deleted=1')
    expect((await user.get('/api/me')).status).toBe(401)
    expect(
      await count('SELECT count(*)::int AS n FROM users WHERE phone = $1', [
        phone,
      ]),
    ).toBe(0)
  })
})

describe('signing in again from the same browser', () => {
  test('replaces that browser’s session row; the first cookie is signed out', async () => {
    const phone = uniquePhone()
    const ip = freshIp()
    const user = await signUp(stack.workers, { phone, ip })
    await requestCode(stack.workers, phone, ip)
    const code = await latestCode(stack.workers, phone)
    const again = await stack.workers.app('/api/auth/otp/verify', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'CF-Connecting-IP': ip,
        Cookie: user.cookie,
      },
      body: JSON.stringify({ phone, code }),
    })
    expect(again.status).toBe(200)
    const second = cookieFrom(again)
    expect(second).not.toBe(user.cookie)
    expect(
      await count(
        'SELECT count(*)::int AS n FROM auth_sessions WHERE user_id = $1',
        [user.userId],
      ),
    ).toBe(1)
    expect((await user.get('/api/me')).status).toBe(401)
    expect(
      (await stack.workers.app('/api/me', { headers: { Cookie: second } }))
        .status,
    ).toBe(200)
  })
})
