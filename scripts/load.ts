// `npm run load -- <base-url> [<webhooks-url>]`: autocannon scenarios for 100+ concurrent users
// (landing, signed-in dashboard, sessions list, recordings list, webhook ingestion), each bounded by
// --duration, printed as one Markdown table. Meant for npm run dev or a staging deployment: it signs
// a load user up (dev outbox), and the webhooks scenario stores one event per request.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseVarsFile } from './check-env.mjs'
import {
  buildScenarios,
  withFreshId,
  formatLoadTable,
  LOAD_USAGE,
  parseLoadArgs,
  summarise,
  UsageError,
  type AutocannonResult,
  type LoadOptions,
  type LoadRow,
  type Scenario,
} from './lib/load'
import { defaultWebhooksUrl } from './lib/smoke'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const WEBHOOK_SAMPLE = path.join(
  ROOT,
  'tests/fixtures/100ms/webhooks/peer.join.success.json',
)

// autocannon ships no types: this is the part of its API used here.
type Autocannon = (options: {
  url: string
  method: string
  headers: Record<string, string>
  requests?: Array<{
    setupRequest: (request: { body?: string }) => { body?: string }
  }>
  verifyBody?: (body: string) => boolean
  connections: number
  duration: number
  timeout: number
}) => Promise<AutocannonResult>
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

let options: LoadOptions
try {
  options = parseLoadArgs(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  console.error(`load: ${error.message}\n\n${LOAD_USAGE}`)
  process.exit(2)
}
const isDev = defaultWebhooksUrl(options.baseUrl) !== null

class Refused extends Error {}

async function call(url: URL, init: RequestInit = {}) {
  const response = await fetch(url, {
    redirect: 'manual',
    ...init,
    signal: AbortSignal.timeout(15_000),
  })
  return { response, text: await response.text() }
}

/**
 * A fresh load user, signed up through the dev outbox the way a developer signs in (a new number
 * each run, so the per-phone sending limits never refuse a repeated run).
 */
async function signUpLoadUser(): Promise<string> {
  const app = (p: string) => new URL(p, options.baseUrl)
  const json = (body: unknown, cookie?: string): RequestInit => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(cookie ? { cookie } : {}),
    },
    body: JSON.stringify(body),
  })
  const suffix = String(Date.now() % 10_000_000).padStart(7, '0')
  const phone = `+1555${suffix}`
  const sent = await call(app('/api/auth/otp/send'), json({ phone }))
  if (sent.response.status !== 202)
    throw new Refused(
      `signing the load user in: sending a code answered ${sent.response.status} ${sent.text.slice(0, 200)}`,
    )
  const outbox = await call(app('/dev/outbox.json'))
  if (outbox.response.status !== 200)
    throw new Refused(
      `signing the load user in needs the dev outbox (SMS_PROVIDER=outbox), which answered ${outbox.response.status}: pass --cookie`,
    )
  const messages = JSON.parse(outbox.text) as Array<{
    to: string
    body: string
  }>
  const code = /\b(\d{6})\b/.exec(
    messages.find((m) => m.to === phone)?.body ?? '',
  )?.[1]
  if (!code) throw new Refused(`no code for ${phone} in the dev outbox`)
  const verified = await call(
    app('/api/auth/otp/verify'),
    json({ phone, code }),
  )
  const cookie = (verified.response.headers.get('set-cookie') ?? '').split(
    ';',
  )[0]
  if (verified.response.status !== 200 || !cookie?.startsWith('kulti_session='))
    throw new Refused(
      `signing the load user in: verifying answered ${verified.response.status} ${verified.text.slice(0, 200)}`,
    )
  const profile = await call(app('/api/me'), {
    ...json({ username: `load_${suffix}`, displayName: 'Load test' }, cookie),
    method: 'PUT',
  })
  if (profile.response.status !== 200)
    throw new Refused(
      `completing the load user's profile answered ${profile.response.status} ${profile.text.slice(0, 200)}`,
    )
  console.error(`load: signed up @load_${suffix} through the dev outbox`)
  return cookie
}

function webhookSecret(): string {
  const fromEnv = process.env.HMS_WEBHOOK_SECRET
  if (fromEnv) return fromEnv
  if (isDev) {
    const vars = parseVarsFile(
      readFileSync(path.join(ROOT, '.dev.vars'), 'utf8'),
    ).vars as Record<string, string>
    if (vars.HMS_WEBHOOK_SECRET) return vars.HMS_WEBHOOK_SECRET
  }
  throw new Refused(
    'the webhooks scenario needs HMS_WEBHOOK_SECRET in the environment (or in .dev.vars for npm run dev)',
  )
}

/** One request first: a scenario that fails alone would only measure how fast errors come back. */
async function preflight(scenario: Scenario) {
  const { response, text } = await call(new URL(scenario.url), {
    method: scenario.method,
    headers: scenario.headers,
    body: scenario.body === undefined ? undefined : withFreshId(scenario.body),
  })
  if (
    response.status < 200 ||
    response.status > 299 ||
    (scenario.expect !== undefined && !text.includes(scenario.expect))
  )
    throw new Refused(
      `${scenario.label}: one request answered ${response.status} ${
        response.headers.get('location') ?? text.slice(0, 200)
      }`,
    )
}

try {
  const needsCookie = options.scenarios.some(
    (s) => s === 'dashboard' || s === 'recordings',
  )
  const cookie = needsCookie
    ? (options.cookie ?? (await signUpLoadUser()))
    : undefined
  const scenarios = buildScenarios(options, {
    cookie,
    ...(options.scenarios.includes('webhooks')
      ? {
          webhookSecret: webhookSecret(),
          webhookSample: readFileSync(WEBHOOK_SAMPLE, 'utf8'),
        }
      : {}),
  })
  for (const scenario of scenarios) await preflight(scenario)

  const rows: LoadRow[] = []
  for (const scenario of scenarios) {
    console.error(
      `load: ${scenario.label}: ${options.connections} connections for ${options.durationSeconds} s…`,
    )
    const result = await autocannon({
      url: scenario.url,
      method: scenario.method,
      headers: scenario.headers,
      // A fresh id in each body. (autocannon's own idReplacement sends a Content-Length that does
      // not match the body when used programmatically, and every request then hangs.)
      ...(scenario.body === undefined
        ? {}
        : {
            requests: [
              {
                setupRequest: (request) => ({
                  ...request,
                  body: withFreshId(scenario.body!),
                }),
              },
            ],
          }),
      ...(scenario.expect === undefined
        ? {}
        : { verifyBody: (body) => body.includes(scenario.expect!) }),
      connections: options.connections,
      duration: options.durationSeconds,
      timeout: 10,
    })
    rows.push(summarise(scenario.label, result))
  }
  console.log(
    `load: ${options.baseUrl.origin}${options.webhooksUrl ? ` (webhooks ${options.webhooksUrl.origin})` : ''}, ` +
      formatLoadTable(rows, options),
  )
  const failing = rows.filter((r) => r.errors > 0)
  if (failing.length > 0) {
    console.log(
      `\nload: ${failing.length} scenario(s) had errors: ${failing.map((r) => r.label).join('; ')}`,
    )
    process.exitCode = 1
  }
} catch (error) {
  if (!(error instanceof Refused)) throw error
  console.error(`load: ${error.message}`)
  process.exitCode = 1
}
