// Demo data for local development: a few people to look at on a fresh database. Idempotent (fixed
// ids, ON CONFLICT DO NOTHING), so every `npm run dev` can run it without duplicating or
// overwriting anything a developer changed by hand.
import pg from 'pg'

// Fixed ids so other seed rows (sessions, tips…) can point at these people across restarts.
// The phone numbers are in the 555-01xx block, reserved for fiction: no real person gets a code.
export const DEMO_USERS = [
  {
    id: '00000000-0000-4000-8000-000000000001',
    phone: '+15555550101',
    username: 'ada',
    displayName: 'Ada Lovelace',
    bio: 'Writing the first programs, live. Ask me about the Analytical Engine.',
  },
  {
    id: '00000000-0000-4000-8000-000000000002',
    phone: '+15555550102',
    username: 'grace',
    displayName: 'Grace Hopper',
    bio: 'Compilers, COBOL and hunting real bugs. Building in the open every Friday.',
  },
  {
    id: '00000000-0000-4000-8000-000000000003',
    phone: '+15555550103',
    username: 'alan',
    displayName: 'Alan Turing',
    bio: 'Pairing on proofs and programs. Bring a problem, leave with a machine.',
  },
]

/**
 * Inserts the demo users that are missing and reports what it did through `log`.
 * @param {string} connectionString
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {Promise<{ inserted: string[], existing: string[] }>}
 */
export async function seed(connectionString, { log = console.log } = {}) {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    const inserted = []
    for (const user of DEMO_USERS) {
      // No conflict target: a clash on the id, the phone or the (case-insensitive) username all
      // mean this person, or someone a developer created in their place, is already there.
      const result = await client.query(
        `insert into users (id, phone, username, display_name, bio)
         values ($1, $2, $3, $4, $5)
         on conflict do nothing
         returning username`,
        [user.id, user.phone, user.username, user.displayName, user.bio],
      )
      if (result.rowCount) inserted.push(user.username)
    }
    const existing = DEMO_USERS.map((u) => u.username).filter(
      (name) => !inserted.includes(name),
    )
    if (inserted.length) log(`seed: added demo users ${inserted.join(', ')}`)
    if (existing.length) log(`seed: already present: ${existing.join(', ')}`)
    return { inserted, existing }
  } finally {
    await client.end()
  }
}
