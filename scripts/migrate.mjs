#!/usr/bin/env node
// `npm run db:migrate`: applies migrations/ to the Postgres at DATABASE_URL.
// With the embedded PGlite (npm run dev), run it while nothing else is connected: PGlite takes
// one connection at a time.

import { MIGRATIONS_FOLDER, migrate } from './lib/migrate.mjs'

const url = process.env.DATABASE_URL
if (!url) {
  console.error(
    'db:migrate: DATABASE_URL is not set. Set it to the Postgres to migrate, e.g.\n' +
      '  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kulti npm run db:migrate',
  )
  process.exit(1)
}

const target = redact(url)
try {
  console.log(`db:migrate: applying ${MIGRATIONS_FOLDER} to ${target}`)
  const { applied, latest } = await migrate(url)
  if (applied.length === 0) {
    console.log(
      `db:migrate: already up to date (at ${latest ?? 'no migrations'})`,
    )
  } else {
    for (const tag of applied) console.log(`db:migrate: applied ${tag}`)
    console.log(`db:migrate: ${applied.length} applied, now at ${latest}`)
  }
} catch (error) {
  console.error(
    `db:migrate: failed on ${target}: ${error instanceof Error ? error.message : error}`,
  )
  process.exit(1)
}

/** The URL without its password, for logs. @param {string} value */
function redact(value) {
  try {
    const parsed = new URL(value)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unparseable DATABASE_URL)'
  }
}
