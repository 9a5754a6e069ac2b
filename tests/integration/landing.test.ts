import { describe, expect, test } from 'vitest'
import { createPeople } from '../support/world'
import { useWorkersOnTestDatabase } from '../support/workers'

// The anonymous landing page is rendered once per isolate and then sent from memory
// (workers/landing-cache.ts, ADR 021). Whoever the kept copy is not for must never get it.
const stack = useWorkersOnTestDatabase()

const landing = (headers: Record<string, string> = {}, path = '/') =>
  stack.workers.app(path, { headers, redirect: 'manual' })

describe('the landing page kept in memory', () => {
  test('a signed-in visitor still sees their own header, before and after anonymous visits', async () => {
    const { host } = await createPeople(stack.workers)
    for (let i = 0; i < 3; i += 1) {
      const anonymous = await (await landing()).text()
      expect(anonymous).toContain('>Sign in</a>')
      expect(anonymous).not.toContain(`>${host.displayName}</a>`)
      const signedIn = await (await landing({ Cookie: host.cookie })).text()
      expect(signedIn).toContain(`>${host.displayName}</a>`)
      expect(signedIn).not.toContain('>Sign in</a>')
    }
  })

  test('the notice after deleting an account still shows once the plain page is kept', async () => {
    await landing()
    await landing()
    const html = await (await landing({}, '/?deleted=1')).text()
    expect(html).toContain('Your account has been deleted.')
    expect(await (await landing()).text()).not.toContain(
      'Your account has been deleted.',
    )
  })

  test('a forged session cookie gets the page rendered for it: signed out', async () => {
    await landing()
    const stale = await landing({ Cookie: 'kulti_session=forged' })
    expect(stale.status).toBe(200)
    expect(await stale.text()).toContain('>Sign in</a>')
  })
})
