import type { RateLimiter } from './rate-limiter'

/** What Cloudflare hands each Worker: variables and secrets (validated by getAppEnv or getWebhooksEnv) plus bindings. */
export interface Bindings {
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>
  BACKUPS: R2Bucket
  [variable: string]: unknown
}
