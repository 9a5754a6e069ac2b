import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import { signUp, type TestClient } from '../support/auth'
import { useWorkersOnTestDatabase } from '../support/workers'

// Pages make at most two database round trips (docs/performance.md (b)): the session lookup and
// one statement for the page. A round trip is a ReadyForQuery the database sends through the
// relay after a connection's startup; it is a count, not a timing, so it is the same on any machine.
const stack = useWorkersOnTestDatabase()

/** Waits until the relay has been quiet for a while: work a request left in `waitUntil` is done. */
async function settle() {
  let last = JSON.stringify(stack.database.relayStats())
  for (let quiet = 0; quiet < 3; ) {
    await sleep(100)
    const now = JSON.stringify(stack.database.relayStats())
    quiet = now === last ? quiet + 1 : 0
    last = now
  }
}

/** The page's HTML and how many round trips its one request made. */
async function visit(user: TestClient, path: string) {
  await settle()
  const before = stack.database.relayStats().roundTrips
  const response = await user.get(path)
  const html = await response.text()
  await settle()
  expect(response.status, html).toBe(200)
  return { html, roundTrips: stack.database.relayStats().roundTrips - before }
}

describe('database round trips per page', () => {
  test('/credits: two, with the leaderboards computed and when they are cached', async () => {
    const rich = await signUp(stack.workers, {
      ip: '198.51.100.71',
      profile: { username: `rtrich${process.pid % 1e5}`, displayName: 'Rich' },
    })
    const user = await signUp(stack.workers, {
      ip: '198.51.100.72',
      profile: { username: `rtuser${process.pid % 1e5}`, displayName: 'Ruth' },
    })
    const tipped = await rich.send('POST', '/api/credits/tip', {
      recipientId: user.userId,
      amount: 7,
    })
    expect(tipped.status).toBe(201)

    // The first view in this isolate computes both leaderboards; the second finds them cached.
    const cold = await visit(user, '/credits')
    expect(cold.html).toContain('Rich')
    expect(cold.roundTrips).toBeLessThanOrEqual(2)
    const cached = await visit(user, '/credits?type=tip_received&limit=1')
    expect(cached.html).toContain('Rich')
    expect(cached.roundTrips).toBeLessThanOrEqual(2)
  })

  test('/dashboard: two', async () => {
    const user = await signUp(stack.workers, {
      ip: '198.51.100.73',
      profile: { username: `rtdash${process.pid % 1e5}`, displayName: 'Dash' },
    })
    const { roundTrips } = await visit(user, '/dashboard')
    expect(roundTrips).toBeLessThanOrEqual(2)
  })
})
