import { describe, expect, test } from 'vitest'
import { requestCode, signUp, uniquePhone } from '../support/auth'
import { BASE_URL, useWorkersOnTestDatabase } from '../support/workers'

// Limits on pages answer like the JSON API: 429 with Retry-After, and the message in the form.
// The general `mutation` policy is lowered to 2 a minute here so that a third save is refused.
const stack = useWorkersOnTestDatabase({
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    mutation: { limit: 2, periodSeconds: 60 },
  }),
})
let counter = 0
const freshIp = () => `198.51.100.${100 + ++counter}`

function postForm(path: string, fields: Record<string, string>, cookie = '') {
  return stack.workers.app(path, {
    method: 'POST',
    headers: {
      Origin: BASE_URL,
      'Content-Type': 'application/x-www-form-urlencoded',
      'CF-Connecting-IP': '198.51.100.250',
      ...(cookie ? { Cookie: cookie } : {}),
    },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  })
}

describe('a page form over a limit', () => {
  test('/settings: a signed-in user’s third save in a minute is 429 with Retry-After and the message on the page', async () => {
    const user = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username: `lim${Date.now() % 1e8}`, displayName: 'Lim' },
    })
    const save = (bio: string) =>
      postForm(
        '/settings',
        { intent: 'profile', displayName: 'Lim', bio, avatarUrl: '' },
        user.cookie,
      )
    // signUp's PUT /api/me was the first mutation of the minute.
    expect((await save('one')).status).toBe(200)
    const refused = await save('two')
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect(refused.headers.get('RateLimit-Policy')).toContain(
      '"mutation";q=2;w=60',
    )
    const html = await refused.text()
    expect(html).toContain('Too many attempts. Try again in')
    // Nothing was saved by the refused request.
    const [row] = await stack.database.query<{ bio: string }>(
      'SELECT bio FROM users WHERE id = $1',
      [user.userId],
    )
    expect(row!.bio).toBe('one')
  })

  test('the JSON API refuses the same way: PUT /api/me over the limit is 429', async () => {
    const user = await signUp(stack.workers, {
      ip: freshIp(),
      profile: { username: `api${Date.now() % 1e8}`, displayName: 'Api' },
    })
    expect((await user.send('PUT', '/api/me', { bio: 'a' })).status).toBe(200)
    const refused = await user.send('PUT', '/api/me', { bio: 'b' })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0)
  })

  test('/login: a fourth code for one number is 429 with Retry-After and the wait in the form', async () => {
    const phone = uniquePhone()
    for (let i = 0; i < 3; i++)
      expect((await requestCode(stack.workers, phone, freshIp())).status).toBe(
        202,
      )
    const refused = await postForm('/login', { intent: 'send', phone })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(590)
    expect(await refused.text()).toContain(
      'Too many attempts. Try again in 10 minutes.',
    )
  })
})
