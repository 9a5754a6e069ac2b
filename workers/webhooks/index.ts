import { Hono } from 'hono'
import { openRequestDatabase } from '../../app/db/client.server'
import { recordWebhookEvent } from '../../app/models/webhook-events.server'
import { createMonitor, log } from '../../app/services/monitoring.server'
import { enforceRateLimit } from '../../app/services/rate-limit.server'
import { secretsMatch } from '../../app/utils/constant-time'
import {
  getWebhooksEnv,
  InvalidEnvironmentError,
  type WebhooksEnv,
} from '../../app/utils/env.server'
import { jsonError, readBodyWithLimit } from '../../app/utils/http.server'
import { fieldErrors, HmsWebhookEnvelope } from '../../app/utils/validation'
import type { Bindings } from '../bindings'
import { withSecurityHeaders } from '../security-headers'

const MAX_WEBHOOK_BYTES = 256 * 1024
const WEBHOOK_SECRET_HEADER = 'x-kulti-webhook-secret'

type HonoEnv = { Bindings: Bindings; Variables: { env: WebhooksEnv } }

const app = new Hono<HonoEnv>()

app.use(async (c, next) => {
  await next()
  c.res = withSecurityHeaders(c.res)
})

app.use(async (c, next) => {
  try {
    c.set('env', getWebhooksEnv(c.env))
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error
    console.error(error.message)
    return jsonError(
      500,
      'misconfigured',
      'The webhook receiver is misconfigured. The operators have been alerted.',
    )
  }
  await next()
})

app.post('/webhooks/100ms', async (c) => {
  const env = c.get('env')
  // 100ms does not sign webhooks: the secret header we configured on the dashboard is the proof.
  if (!(await isAuthorised(c.req.header(WEBHOOK_SECRET_HEADER), env))) {
    // Guessing the secret gets slow: past the limit, failures from one address are 429s.
    const ip = c.req.header('cf-connecting-ip') ?? 'unknown'
    try {
      await enforceRateLimit(c.env.RATE_LIMITER, 'webhook-auth-failure', ip)
    } catch (refusal) {
      if (refusal instanceof Response) return refusal
      throw refusal
    }
    return jsonError(
      401,
      'unauthorized',
      `Missing or wrong ${WEBHOOK_SECRET_HEADER} header.`,
    )
  }
  const text = await readBodyWithLimit(c.req.raw, MAX_WEBHOOK_BYTES)
  if (text === null) {
    return jsonError(
      400,
      'payload_too_large',
      `Webhook bodies are limited to ${MAX_WEBHOOK_BYTES / 1024} KiB.`,
    )
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return jsonError(400, 'invalid_json', 'The body is not valid JSON.')
  }
  const parsed = HmsWebhookEnvelope.safeParse(body)
  if (!parsed.success) {
    return jsonError(
      400,
      'invalid_event',
      'The body is not a 100ms webhook event.',
      { fields: fieldErrors(parsed.error) },
    )
  }

  const database = openRequestDatabase(env)
  try {
    const outcome = await recordWebhookEvent(database.db, parsed.data)
    log('info', 'webhook received', {
      eventId: parsed.data.id,
      type: parsed.data.type,
      duplicate: outcome.duplicate,
    })
    return c.json({ received: true, duplicate: outcome.duplicate }, 200)
  } catch (error) {
    createMonitor({
      dsn: env.SENTRY_DSN,
      environment: env.ENVIRONMENT,
      release: __BUILD_VERSION__,
      context: c.executionCtx,
      request: c.req.raw,
    }).captureException(error, {
      eventId: parsed.data.id,
      type: parsed.data.type,
    })
    // Not a 500: 503 tells 100ms to retry, and nothing was stored (the transaction rolled back).
    return jsonError(
      503,
      'unavailable',
      'The event could not be stored; please retry.',
      { headers: { 'Retry-After': '5' } },
    )
  } finally {
    c.executionCtx.waitUntil(database.close())
  }
})

app.notFound(() =>
  jsonError(
    404,
    'not_found',
    'No such endpoint. Webhooks go to POST /webhooks/100ms.',
  ),
)

app.onError((error, c) => {
  createMonitor({
    dsn: c.get('env')?.SENTRY_DSN,
    environment: c.get('env')?.ENVIRONMENT ?? 'unknown',
    release: __BUILD_VERSION__,
    context: c.executionCtx,
  }).captureException(error)
  return jsonError(500, 'internal_error', 'Something went wrong on our side.')
})

async function isAuthorised(
  given: string | undefined,
  env: WebhooksEnv,
): Promise<boolean> {
  if (!given) return false
  const current = await secretsMatch(given, env.HMS_WEBHOOK_SECRET)
  const next = env.HMS_WEBHOOK_SECRET_NEXT
    ? await secretsMatch(given, env.HMS_WEBHOOK_SECRET_NEXT)
    : false
  return current || next
}

export default app satisfies ExportedHandler<Bindings>
