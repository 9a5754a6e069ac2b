// `npm run db:seed`: adds the demo users to the database at DATABASE_URL (already migrated).
// `npm run dev` seeds its own database, so this is for a Postgres you manage yourself.
import { seed } from './lib/seed.mjs'

const connectionString = process.env.DATABASE_URL
if (!connectionString) {
  console.error(
    'DATABASE_URL is not set. Example:\n' +
      '  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kulti npm run db:seed\n' +
      '(`npm run dev` seeds its embedded database by itself.)',
  )
  process.exit(1)
}

try {
  await seed(connectionString)
} catch (error) {
  console.error(
    `seed failed: ${error instanceof Error ? error.message : error}`,
  )
  process.exit(1)
}
