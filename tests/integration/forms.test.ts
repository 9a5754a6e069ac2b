import { describe, expect, test } from 'vitest'
import { signUp } from '../support/auth'
import { BASE_URL, useWorkersOnTestDatabase } from '../support/workers'

// A page's form post whose body cannot be parsed is the sender's mistake: a 400, never our 500.
const stack = useWorkersOnTestDatabase()

const BROKEN_MULTIPART = {
  'Content-Type': 'multipart/form-data; boundary=x',
}

function post(path: string, headers: Record<string, string>, body: string) {
  return stack.workers.app(path, {
    method: 'POST',
    headers: { Origin: BASE_URL, ...headers },
    body,
    redirect: 'manual',
  })
}

/** What the Workers logged as an error (our bug) since `from` lines had been logged. */
function errorsLoggedSince(from: number): string[] {
  return stack.workers
    .logs()
    .slice(from)
    .filter((line) => line.includes('"level":"error"'))
}

describe('a form body that cannot be read', () => {
  test('on /login answers 400 and is not logged as an error', async () => {
    const logged = stack.workers.logs().length
    const response = await post('/login', BROKEN_MULTIPART, 'garbage')
    expect(response.status).toBe(400)
    // Without JavaScript this is the page the person sees: it says what to do.
    expect(await response.text()).toContain(
      'The form could not be read. Please submit it again.',
    )
    expect(errorsLoggedSince(logged)).toEqual([])
  })

  test('on /login answers 400 for JSON posted to the page too', async () => {
    const logged = stack.workers.logs().length
    const response = await post(
      '/login',
      { 'Content-Type': 'application/json' },
      JSON.stringify({ phone: '+15550000000', intent: 'send' }),
    )
    expect(response.status).toBe(400)
    expect(errorsLoggedSince(logged)).toEqual([])
  })

  test('on /welcome answers 400 for a signed-in user', async () => {
    const user = await signUp(stack.workers, { ip: '198.18.1.1' })
    const logged = stack.workers.logs().length
    const response = await post(
      '/welcome',
      { ...BROKEN_MULTIPART, Cookie: user.cookie },
      'garbage',
    )
    expect(response.status).toBe(400)
    expect(errorsLoggedSince(logged)).toEqual([])
  })

  test('on /settings answers 400 and changes nothing', async () => {
    const username = `forms${Date.now() % 1e8}`
    const user = await signUp(stack.workers, {
      ip: '198.18.1.2',
      profile: { username, displayName: 'Form Sender' },
    })
    const logged = stack.workers.logs().length
    const response = await post(
      '/settings',
      { ...BROKEN_MULTIPART, Cookie: user.cookie },
      'garbage',
    )
    expect(response.status).toBe(400)
    expect(errorsLoggedSince(logged)).toEqual([])
    const me = (await (await user.get('/api/me')).json()) as {
      user: { username: string; displayName: string }
    }
    expect(me.user).toMatchObject({ username, displayName: 'Form Sender' })
  })
})
