import type { AppLoadContext } from '@remix-run/cloudflare'
import type { AppEnv } from './env.server'

/** Whether texts go to the development outbox (never in production: env validation refuses it). */
export function isOutboxActive(
  env: Pick<AppEnv, 'SMS_PROVIDER' | 'ENVIRONMENT'>,
): boolean {
  return env.SMS_PROVIDER === 'outbox' && env.ENVIRONMENT !== 'production'
}

/** The outbox pages exist only while the outbox provider is active. */
export function requireOutbox(context: AppLoadContext): void {
  if (!isOutboxActive(context.env))
    throw new Response('Not Found', { status: 404 })
}
