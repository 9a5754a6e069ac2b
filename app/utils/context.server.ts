import type { AppLoadContext } from '@remix-run/cloudflare'
import type { Db } from '../db/client.server'

// The load context's shape is declared in workers/load-context.ts, next to the code that builds it.

/** The request's database (its Pool opens on first use and closes after the response). */
export function getDb(context: AppLoadContext): Db {
  return context.database.db
}
