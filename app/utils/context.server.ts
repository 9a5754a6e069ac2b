import type { AppLoadContext } from '@remix-run/cloudflare'
import type { Bindings } from '../../workers/bindings'
import type { Db, RequestDatabase } from '../db/client.server'
import type { Monitor } from '../services/monitoring.server'
import type { AppEnv } from './env.server'

declare module '@remix-run/cloudflare' {
  /** What workers/app.ts hands every loader and action. */
  interface AppLoadContext {
    cloudflare: { env: Bindings; ctx: ExecutionContext }
    env: AppEnv
    database: RequestDatabase
    monitor: Monitor
    cspNonce: string
    requestId: string
    version: string
  }
}

/** The request's database (its Pool opens on first use and closes after the response). */
export function getDb(context: AppLoadContext): Db {
  return context.database.db
}
