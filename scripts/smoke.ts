// `npm run smoke -- <base-url> [<webhooks-url>]`: the post-deployment checks (the seed report's list:
// landing, health, security headers, sign-in, sessions, leaderboard, webhook auth) against a running
// deployment, as a PASS/FAIL table. Only reads, plus two webhook deliveries the Worker must refuse:
// safe to run against production at any time. Exit 0 all passed, 1 a check failed, 2 bad usage.
import {
  formatTable,
  headerProblems,
  nonceOf,
  parseSmokeArgs,
  phoneFormProblems,
  scriptNonceProblems,
  SMOKE_USAGE,
  UsageError,
  type CheckResult,
  type SmokeOptions,
} from './lib/smoke'

let options: SmokeOptions
try {
  options = parseSmokeArgs(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  console.error(`smoke: ${error.message}\n\n${SMOKE_USAGE}`)
  process.exit(2)
}
const { baseUrl, webhooksUrl, timeoutMs } = options
const https = baseUrl.protocol === 'https:'

/** A check throws `Failed` with what it saw; its return value is the detail of a pass. */
class Failed extends Error {}
/** A check that does not apply to this target. */
class Skipped extends Error {}
const fail = (detail: string): never => {
  throw new Failed(detail)
}
const expectNone = (problems: string[]) => {
  if (problems.length > 0) fail(problems.join('; '))
}

async function get(
  url: URL | string,
  init: RequestInit = {},
): Promise<{ response: Response; body: string }> {
  const response = await fetch(url, {
    redirect: 'manual',
    ...init,
    signal: AbortSignal.timeout(timeoutMs),
  })
  return { response, body: await response.text() }
}

function expectStatus(response: Response, ...statuses: number[]) {
  if (!statuses.includes(response.status))
    fail(`answered ${response.status}, expected ${statuses.join(' or ')}`)
}

function json(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body) as Record<string, unknown>
  } catch {
    return fail(`not JSON: ${body.slice(0, 80)}`)
  }
}

const app = (path: string) => new URL(path, baseUrl)
const webhookEndpoint = new URL('/webhooks/100ms', webhooksUrl)

/** A well-formed 100ms event, so a refusal can only be about the secret. */
const webhookEvent = () =>
  JSON.stringify({
    version: '2.0',
    id: `smoke-${crypto.randomUUID()}`,
    account_id: 'smoke',
    timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    type: 'peer.join.success',
    data: { room_id: 'smoke', peer_id: 'smoke', role: 'viewer' },
  })

async function webhookRefused(secret: string | null): Promise<string> {
  const { response, body } = await get(webhookEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret === null ? {} : { 'x-kulti-webhook-secret': secret }),
    },
    body: webhookEvent(),
  })
  // 429: too many bad secrets from this address lately; still a refusal, but not the one checked.
  expectStatus(response, 401, 403)
  expectNone(
    headerProblems(response.headers, { nonce: false, https: true }).map(
      (p) => `header ${p}`,
    ),
  )
  const code = (json(body).error as { code?: string } | undefined)?.code
  return `${response.status} ${code ?? ''}`.trim()
}

const checks: Array<[string, () => Promise<string>]> = [
  [
    'landing page',
    async () => {
      const { response, body } = await get(app('/'))
      expectStatus(response, 200)
      if (!(response.headers.get('content-type') ?? '').includes('text/html'))
        fail(`content-type ${response.headers.get('content-type')}`)
      const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]
      if (!title?.includes('Kulti')) fail(`title: ${title ?? 'none'}`)
      return `200, "${title}"`
    },
  ],
  [
    'landing: security headers',
    async () => {
      const { response } = await get(app('/'))
      expectNone(headerProblems(response.headers, { nonce: true, https }))
      return `SPEC §7 set${https ? ' (https variant)' : ' (http variant)'}`
    },
  ],
  [
    'landing: fresh CSP nonce on each script',
    async () => {
      const first = await get(app('/'))
      const second = await get(app('/'))
      const [a, b] = [
        nonceOf(first.response.headers),
        nonceOf(second.response.headers),
      ]
      if (!a || !b) fail('no nonce in the CSP')
      if (a === b) fail('two responses had the same nonce')
      expectNone(scriptNonceProblems(first.body, a!))
      const scripts = first.body.match(/<script\b/gi)?.length ?? 0
      return `${scripts} scripts nonced, nonce differs per response`
    },
  ],
  [
    'health',
    async () => {
      const { response, body } = await get(app('/api/health'))
      const health = json(body) as {
        status?: string
        version?: string
        checks?: Record<string, { status?: string; error?: string }>
      }
      const down = Object.entries(health.checks ?? {})
        .filter(([, check]) => check.status !== 'ok')
        .map(
          ([name, check]) => `${name} ${check.status}: ${check.error ?? '?'}`,
        )
      if (response.status !== 200 || health.status !== 'ok')
        fail(
          `${response.status} ${health.status ?? body.slice(0, 80)}${down.length ? ` (${down.join(', ')})` : ''}`,
        )
      const names = Object.keys(health.checks ?? {}).join(', ')
      return `200 ok (${names}), version ${health.version ?? '?'}`
    },
  ],
  [
    'health: headers, X-Request-Id, Server-Timing',
    async () => {
      const { response } = await get(app('/api/health'))
      const problems = headerProblems(response.headers, { nonce: true, https })
      if (!response.headers.get('x-request-id'))
        problems.push('no X-Request-Id')
      const timing = response.headers.get('server-timing') ?? ''
      if (!/\btotal;dur=/.test(timing))
        problems.push(`Server-Timing: ${timing || 'missing'}`)
      expectNone(problems)
      return `X-Request-Id ${response.headers.get('x-request-id')}`
    },
  ],
  [
    'static file headers (/favicon.svg)',
    async () => {
      const { response } = await get(app('/favicon.svg'))
      expectStatus(response, 200)
      // public/_headers: Static Assets answer before the Worker, always with the https variant.
      expectNone(
        headerProblems(response.headers, { nonce: false, https: true }),
      )
      return '200, SPEC §7 set from public/_headers'
    },
  ],
  [
    'sign-in page (/login)',
    async () => {
      const { response, body } = await get(app('/login'))
      expectStatus(response, 200)
      expectNone(phoneFormProblems(body))
      expectNone(headerProblems(response.headers, { nonce: true, https }))
      return '200, the phone form'
    },
  ],
  [
    'sessions list (GET /api/sessions)',
    async () => {
      const { response, body } = await get(app('/api/sessions'))
      expectStatus(response, 200)
      const { sessions } = json(body)
      if (!Array.isArray(sessions)) fail('no sessions array')
      return `200, ${(sessions as unknown[]).length} live public session(s)`
    },
  ],
  [
    'leaderboard (GET /api/credits/leaderboard)',
    async () => {
      const { response, body } = await get(app('/api/credits/leaderboard'))
      expectStatus(response, 200)
      const { leaders } = json(body)
      if (!Array.isArray(leaders)) fail('no leaders array')
      return `200, ${(leaders as unknown[]).length} leader(s)`
    },
  ],
  [
    'dev outbox closed (/dev/outbox.json)',
    async () => {
      const { response } = await get(app('/dev/outbox.json'))
      // Over http this is a development stack, where the outbox is the point; production is https.
      if (!https)
        throw new Skipped(
          `${response.status}: over http this is a development stack; checked over https`,
        )
      expectStatus(response, 404)
      return '404'
    },
  ],
  ['webhook without secret refused', () => webhookRefused(null)],
  [
    'webhook with wrong secret refused',
    () => webhookRefused(`smoke-wrong-secret-${crypto.randomUUID()}`),
  ],
]

console.log(`smoke: ${baseUrl.origin} (webhooks ${webhooksUrl.origin})\n`)
const results: CheckResult[] = []
for (const [name, check] of checks) {
  const started = performance.now()
  let ok = true
  let skipped = false
  let detail: string
  try {
    detail = await check()
  } catch (error) {
    ok = error instanceof Skipped
    skipped = ok
    detail =
      error instanceof Failed || error instanceof Skipped
        ? error.message
        : error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${timeoutMs / 1000} s`
          : `${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`
  }
  results.push({ name, ok, skipped, detail, ms: performance.now() - started })
}
console.log(formatTable(results))
process.exitCode = results.every((r) => r.ok) ? 0 : 1
