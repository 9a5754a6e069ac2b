// hono/tiny: the smallest router, enough for one route (the default's two routers weigh 2 KiB more).
import { Hono } from 'hono/tiny'
import { openRequestDatabase } from '../../app/db/client.server'
import { recordWebhookEvent } from '../../app/models/webhook-events.server'
import { webhookHandlers } from '../../app/models/webhook-handlers.server'
import {
  attachMonitor,
  log,
  type Monitor,
} from '../../app/services/monitoring.server'
import {
  createLimiter,
  rateLimitHeaders,
} from '../../app/services/rate-limit.server'
import { scrubError } from '../../app/services/scrub'
import {
  createTelemetry,
  now,
  serverTiming,
  startTiming,
  withTelemetry,
  writeLine,
  type Telemetry,
} from '../../app/services/telemetry.server'
import { secretsMatch } from '../../app/utils/constant-time'
import {
  getWebhooksEnv,
  InvalidEnvironmentError,
  type WebhooksEnv,
} from '../../app/utils/env.server'
import {
  isDomainError,
  isRateLimited,
  isUnavailable,
  Unavailable,
} from '../../app/utils/errors'
import { jsonError } from '../../app/utils/http.server'
import { readJson, validate } from '../../app/utils/request.server'
import { HmsWebhookEnvelope } from '../../app/utils/validation'
import type { Bindings } from '../bindings'
import { countRefusal, flushRefusals } from '../refusal-counts'
import { withSecurityHeaders } from '../security-headers'

const MAX_WEBHOOK_BYTES = 256 * 1024
const WEBHOOK_SECRET_HEADER = 'x-kulti-webhook-secret'

type HonoEnv = {
  Bindings: Bindings
  Variables: { env: WebhooksEnv; monitor: Monitor; telemetry: Telemetry }
}

const app = new Hono<HonoEnv>()

// Outermost: the request's telemetry scope (request id, timings) around everything else, and the
// headers every answer carries, errors included.
app.use(async (c, next) => {
  const started = now()
  const requestId = c.req.header('cf-ray') ?? crypto.randomUUID()
  const telemetry = createTelemetry(requestId)
  c.set('telemetry', telemetry)
  await withTelemetry(telemetry, next)
  c.res = withSecurityHeaders(c.res)
  c.res.headers.set('X-Request-Id', requestId)
  c.res.headers.set('Server-Timing', serverTiming(telemetry, now() - started))
})

app.use(async (c, next) => {
  let env: WebhooksEnv
  try {
    env = getWebhooksEnv(c.env)
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error
    writeLine('error', error.message, {})
    return jsonError(
      500,
      'misconfigured',
      'The webhook receiver is misconfigured. The operators have been alerted.',
    )
  }
  c.set('env', env)
  c.set(
    'monitor',
    attachMonitor(c.get('telemetry'), env, {
      release: __BUILD_VERSION__,
      context: c.executionCtx,
      request: c.req.raw,
      source: 'webhooks',
    }),
  )
  await next()
  // This isolate's refusal counts, when due (ADR 019): a connection is opened only for them.
  const database = openRequestDatabase(env)
  c.executionCtx.waitUntil(
    flushRefusals(() => database.db).then(() => database.close()),
  )
})

app.post('/webhooks/100ms', async (c) => {
  const env = c.get('env')
  // 100ms does not sign webhooks: the secret header we configured on the dashboard is the proof.
  if (!(await isAuthorised(c.req.header(WEBHOOK_SECRET_HEADER), env))) {
    // Guessing the secret gets slow: past the limit, failures from one address are 429s.
    const limiter = createLimiter(c.env.RATE_LIMITER, {
      requestId: c.get('telemetry').requestId,
      onRefusal: countRefusal,
    })
    await limiter.check(
      'webhook-auth-failure',
      c.req.header('cf-connecting-ip') ?? 'unknown',
    )
    return jsonError(
      401,
      'unauthorized',
      `Missing or wrong ${WEBHOOK_SECRET_HEADER} header.`,
      { headers: rateLimitHeaders(limiter.decisions) },
    )
  }
  // The exact text received is the stored event.
  const { text: body, value } = await readJson(c.req.raw, {
    maxBytes: MAX_WEBHOOK_BYTES,
  })
  const event = validate(
    HmsWebhookEnvelope,
    value,
    'The body is not a 100ms webhook event.',
    'invalid_event',
  )

  const database = openRequestDatabase(env, (what) => startTiming('db', what))
  try {
    let outcome
    try {
      outcome = await recordWebhookEvent(
        database.db,
        webhookHandlers,
        event,
        body,
      )
    } catch (error) {
      // The event could not even be stored: the database is down. 503 tells 100ms to retry.
      throw new Unavailable('database', {
        message: 'The event could not be stored; please retry.',
        retryAfter: 5,
        cause: error,
      })
    }
    if (!outcome.duplicate && !outcome.applied) {
      // Stored, answered 200, retried by the scheduled job: reported so someone looks at why.
      c.get('monitor').captureException(outcome.error, {
        eventId: event.id,
        type: event.type,
        failure: outcome.reason,
      })
    }
    log('info', 'webhook received', {
      eventId: event.id,
      type: event.type,
      duplicate: outcome.duplicate,
      applied: outcome.duplicate ? undefined : outcome.applied,
    })
    return c.json(
      {
        received: true,
        duplicate: outcome.duplicate,
        ...(outcome.duplicate ? {} : { applied: outcome.applied }),
      },
      200,
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

/** This Worker's translator of typed errors (ADR 010); anything else is a reported 500. */
app.onError((error, c) => {
  if (isDomainError(error)) {
    return jsonError(error.status, error.code, error.message, {
      fields: error.fields,
      headers: error.headers,
    })
  }
  if (isRateLimited(error)) {
    return jsonError(429, 'rate_limited', error.message, {
      headers: rateLimitHeaders([error]),
    })
  }
  const monitor = c.get('monitor')
  if (monitor) monitor.captureException(error)
  else writeLine('error', scrubError(error).message, {})
  if (isUnavailable(error)) {
    return jsonError(503, error.code, error.message, {
      headers: { 'Retry-After': String(error.retryAfter) },
    })
  }
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
