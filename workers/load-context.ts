import type { Bindings } from './bindings'
import type { RequestDatabase } from '../app/db/client.server'
import type { BrowserSession } from '../app/models/browser-sessions.server'
import type { ChatRooms } from '../app/models/chat.server'
import type { Hms } from '../app/services/hms.server'
import type { Monitor } from '../app/services/monitoring.server'
import type { Limiter } from '../app/services/rate-limit.server'
import type { SmsSender } from '../app/services/sms.server'
import type { AppEnv } from '../app/utils/env.server'

declare module '@remix-run/cloudflare' {
  /** What workers/app.ts hands every loader and action (it is the one place that wires them). */
  interface AppLoadContext {
    cloudflare: { env: Bindings; ctx: ExecutionContext }
    env: AppEnv
    database: RequestDatabase
    monitor: Monitor
    /** The rate limiter, counting this request's checks for its RateLimit headers. */
    limiter: Limiter
    /** Who this request is signed in as (cookie → session row → user). */
    session: BrowserSession
    /** Texts, through the configured provider. */
    sms: SmsSender
    /** 100ms's management API and tokens (app/services/hms.server.ts). */
    hms: Hms
    /** Each live session's SessionChat Durable Object, by session id. */
    chat: ChatRooms
    cspNonce: string
    requestId: string
    version: string
  }
}
