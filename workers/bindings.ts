import type { RateLimiter } from './rate-limiter'
import type { SessionChat } from './session-chat'

/** What Cloudflare hands each Worker: variables and secrets (validated by getAppEnv or getWebhooksEnv) plus bindings. */
export interface Bindings {
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>
  SESSION_CHAT: DurableObjectNamespace<SessionChat>
  BACKUPS: R2Bucket
  [variable: string]: unknown
}
