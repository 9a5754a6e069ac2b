import {
  createRequestHandler,
  type AppLoadContext,
  type ServerBuild,
} from '@remix-run/cloudflare'
// Aliased in wrangler.toml to the Remix server build (build/index.js).
import * as build from 'virtual:remix/server-build'
import { openRequestDatabase } from '../app/db/client.server'
import { openBrowserSession } from '../app/models/browser-sessions.server'
import { addToOutbox } from '../app/models/sms-outbox.server'
import { createHms } from '../app/services/hms.server'
import { attachMonitor } from '../app/services/monitoring.server'
import { createLimiter } from '../app/services/rate-limit.server'
import { createSmsSender } from '../app/services/sms.server'
import {
  createTelemetry,
  now,
  serverTiming,
  startTiming,
  withTelemetry,
  writeLine,
  type Telemetry,
} from '../app/services/telemetry.server'
import {
  getAppEnv,
  InvalidEnvironmentError,
  type AppEnv,
} from '../app/utils/env.server'
import { jsonError } from '../app/utils/http.server'
import { sessionCookieJar } from '../app/utils/session-cookie.server'
import type { Bindings } from './bindings'
import { limitRequestBody } from './body-limit'
import { refuseCrossSiteMutation } from './csrf'
import { chatRooms } from './chat-rooms'
import { runJobs } from './jobs/run-jobs'
import { jobs } from './jobs'
import { countRefusal, flushRefusals } from './refusal-counts'
import { createLandingCache } from './landing-cache'
import { createNonce, withSecurityHeaders } from './security-headers'

export { RateLimiter } from './rate-limiter'
export { SessionChat } from './session-chat'

const handleRemix = createRequestHandler(build as unknown as ServerBuild)
// Per isolate: the anonymous landing page, rendered once (workers/landing-cache.ts, ADR 021).
const landing = createLandingCache()

export default {
  async fetch(request, bindings, ctx) {
    const started = now()
    const nonce = createNonce()
    const requestId = request.headers.get('cf-ray') ?? crypto.randomUUID()
    // Everything this request does, down to the models' log lines, runs in its telemetry scope.
    const telemetry = createTelemetry(requestId)
    // The kept landing page (ADR 021) needs no request scope: nothing logs, times or reports for
    // it, and it exists only once this isolate rendered it with these same bindings.
    const response =
      landing.serve(request, nonce) ??
      (await withTelemetry(telemetry, () =>
        handleRequest(request, bindings, ctx, nonce, telemetry),
      ))
    // A WebSocket handshake (the session chat) passes as the chat object answered it.
    if (response.status === 101) return response
    const secured = withSecurityHeaders(response, nonce, {
      https: new URL(request.url).protocol === 'https:',
    })
    secured.headers.set('X-Request-Id', requestId)
    secured.headers.set(
      'Server-Timing',
      serverTiming(telemetry, now() - started),
    )
    return secured
  },
  scheduled: runJobs(jobs),
} satisfies ExportedHandler<Bindings>

/** The policy table's numbers this deployment changes: the SMS budget, then RATE_LIMIT_OVERRIDES. */
function limiterOverrides(env: AppEnv) {
  return {
    'sms-hourly-budget': { limit: env.SMS_HOURLY_BUDGET, periodSeconds: 3600 },
    ...env.RATE_LIMIT_OVERRIDES,
  }
}

async function handleRequest(
  request: Request,
  bindings: Bindings,
  ctx: ExecutionContext,
  cspNonce: string,
  telemetry: Telemetry,
): Promise<Response> {
  const { requestId } = telemetry
  let env
  try {
    env = getAppEnv(bindings)
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error
    // The operator reads the list in the logs; the visitor learns only that it is not their fault.
    writeLine('error', error.message, {})
    return jsonError(
      500,
      'misconfigured',
      'The service is misconfigured. The operators have been alerted.',
    )
  }
  const monitor = attachMonitor(telemetry, env, {
    release: __BUILD_VERSION__,
    context: ctx,
    request,
    source: 'app',
  })
  const refusal = refuseCrossSiteMutation(request, env.APP_URL)
  if (refusal) return refusal
  const limited = await limitRequestBody(request)
  if (limited instanceof Response) return limited
  const database = openRequestDatabase(env, (what) => startTiming('db', what))
  const db = () => database.db
  const context: AppLoadContext = {
    cloudflare: { env: bindings, ctx },
    env,
    database,
    monitor,
    limiter: createLimiter(bindings.RATE_LIMITER, {
      overrides: limiterOverrides(env),
      requestId,
      onRefusal: countRefusal,
    }),
    session: openBrowserSession(
      db,
      sessionCookieJar(request, env.SESSION_SECRETS),
      { cacheable: request.method === 'GET' || request.method === 'HEAD' },
    ),
    sms: createSmsSender(env, (to, body) => addToOutbox(db(), to, body)),
    hms: createHms(env),
    chat: chatRooms(bindings),
    cspNonce,
    requestId,
    version: __BUILD_VERSION__,
  }
  try {
    return await landing.keep(
      request,
      await handleRemix(limited, context),
      cspNonce,
    )
  } catch (error) {
    monitor.captureException(error, {
      requestId,
      path: new URL(request.url).pathname,
    })
    return jsonError(
      500,
      'internal_error',
      'Something went wrong on our side. Please try again.',
    )
  } finally {
    // After the response: this isolate's refusal counts, when due (ADR 019), then the connection.
    ctx.waitUntil(flushRefusals(db).then(() => database.close()))
  }
}
