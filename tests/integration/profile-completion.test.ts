import { neonConfig } from '@neondatabase/serverless'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { openRequestDatabase } from '../../app/db/client.server'
import { updateProfile } from '../../app/models/users.server'
import { createTestDatabase, type TestDatabase } from '../support/database'

// The credits work pays the welcome bonus on `completedProfile`, so it must be true for exactly one
// call per account even when several race. The model is called directly here (each call on its own
// connection, as two requests would be); only PostgreSQL runs them truly at once.
const onPostgres = Boolean(process.env.TEST_DATABASE_URL)
if (!onPostgres)
  console.warn(
    'profile completion race SKIPPED: it needs TEST_DATABASE_URL (a PostgreSQL server); PGlite serialises every request',
  )

let database: TestDatabase
beforeAll(async () => {
  if (!onPostgres) return
  neonConfig.webSocketConstructor = WebSocket
  database = await createTestDatabase()
})
afterAll(async () => {
  await database?.close()
})

describe.skipIf(!onPostgres)('completing a new account’s profile', () => {
  test('of 8 simultaneous completions, exactly one reports that it completed the profile', async () => {
    const [user] = await database.query<{ id: string }>(
      "INSERT INTO users (phone) VALUES ('+15550009999') RETURNING id",
    )
    const requests = Array.from({ length: 8 }, () =>
      openRequestDatabase({
        DATABASE_URL: database.databaseUrl,
        DB_WSPROXY: database.wsProxy,
      }),
    )
    try {
      const outcomes = await Promise.all(
        requests.map((request, i) =>
          updateProfile(request.db, user!.id, {
            username: `racer${i}`,
            displayName: `Racer ${i}`,
          }),
        ),
      )
      expect(outcomes.filter((o) => o.completedProfile)).toHaveLength(1)
      // Every call applied its change in turn; the last one's username stands.
      const [row] = await database.query<{ username: string }>(
        'SELECT username FROM users WHERE id = $1',
        [user!.id],
      )
      expect(outcomes.map((o) => o.user.username)).toContain(row!.username)
    } finally {
      await Promise.all(requests.map((request) => request.close()))
    }
  })
})
