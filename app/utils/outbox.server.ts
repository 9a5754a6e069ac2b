import type { AppLoadContext } from '@remix-run/cloudflare'

/** The outbox pages exist only while the outbox provider is active (never in production). */
export function requireOutbox(context: AppLoadContext): void {
  if (
    context.env.SMS_PROVIDER !== 'outbox' ||
    context.env.ENVIRONMENT === 'production'
  ) {
    throw new Response('Not Found', { status: 404 })
  }
}
