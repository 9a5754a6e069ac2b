// The pure parts of `npm run load` (scripts/load.ts): its arguments, the scenarios, and the table.
import { parseOptions, parseOrigin, UsageError } from './cli-args'
import { defaultWebhooksUrl } from './smoke'

export { UsageError }

export const SCENARIO_NAMES = [
  'landing',
  'dashboard',
  'sessions',
  'recordings',
  'webhooks',
] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

export const LOAD_USAGE = `usage: npm run load -- <base-url> [<webhooks-url>] [options]

  <base-url>            the app Worker, e.g. http://127.0.0.1:8787
  <webhooks-url>        the webhooks Worker's origin (also --webhooks <url>); defaults to
                        http://127.0.0.1:8788 when <base-url> is npm run dev's 8787
  --duration <s>        seconds per scenario (default 10)
  --connections <n>     concurrent connections, each one simulated user (default 100)
  --scenarios <list>    comma-separated, from ${SCENARIO_NAMES.join(', ')} (default: all)
  --cookie <cookie>     the signed-in scenarios' session cookie (kulti_session=…); without it a new
                        load user signs in through the dev outbox (npm run dev only)

The webhooks scenario sends HMS_WEBHOOK_SECRET from the environment, or from .dev.vars when
<base-url> is npm run dev's. Each scenario runs for --duration seconds; prints requests, req/s,
p50, p99 and errors per scenario. Exits 1 when a scenario had errors, 2 on bad usage.`

export interface LoadOptions {
  baseUrl: URL
  webhooksUrl: URL | null
  durationSeconds: number
  connections: number
  scenarios: ScenarioName[]
  cookie: string | undefined
}

function wholeNumber(
  value: string | undefined,
  name: string,
  fallback: number,
  [min, max]: [number, number],
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}`,
    )
  return n
}

export function parseLoadArgs(argv: readonly string[]): LoadOptions {
  const positional: string[] = []
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg.startsWith('--')) {
      rest.push(arg)
      if (!arg.includes('=') && i + 1 < argv.length) rest.push(argv[++i]!)
    } else positional.push(arg)
  }
  const given = parseOptions(rest, {
    strings: ['webhooks', 'duration', 'connections', 'scenarios', 'cookie'],
  })
  if (positional.length === 0) throw new UsageError('give the base URL')
  if (positional.length > 2)
    throw new UsageError(`unexpected argument: ${positional[2]}`)
  if (positional[1] !== undefined && given.webhooks !== undefined)
    throw new UsageError('give the webhooks URL once (argument or --webhooks)')
  const baseUrl = parseOrigin(positional[0]!, 'the base URL')
  const scenarios = (given.scenarios ?? SCENARIO_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const name of scenarios)
    if (!(SCENARIO_NAMES as readonly string[]).includes(name))
      throw new UsageError(
        `unknown scenario ${name}: choose from ${SCENARIO_NAMES.join(', ')}`,
      )
  if (scenarios.length === 0) throw new UsageError('--scenarios is empty')
  const webhooksGiven = positional[1] ?? given.webhooks
  const webhooksUrl =
    webhooksGiven === undefined
      ? defaultWebhooksUrl(baseUrl)
      : parseOrigin(webhooksGiven, 'the webhooks URL')
  if (scenarios.includes('webhooks') && !webhooksUrl)
    throw new UsageError(
      "the webhooks scenario needs the webhooks Worker's URL (second argument or --webhooks)",
    )
  const cookie = given.cookie
  if (cookie !== undefined && !/^kulti_session=[^;\s]+$/.test(cookie))
    throw new UsageError('--cookie must be kulti_session=<value>')
  return {
    baseUrl,
    webhooksUrl,
    durationSeconds: wholeNumber(given.duration, 'duration', 10, [1, 600]),
    connections: wholeNumber(given.connections, 'connections', 100, [1, 1000]),
    scenarios: [...new Set(scenarios)] as ScenarioName[],
    cookie,
  }
}

export interface Scenario {
  name: ScenarioName
  /** What a person would call it, for the table. */
  label: string
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  /** With `[<id>]` where each request gets a fresh id (withFreshId). */
  body?: string
  /** Text a correct answer contains; an answer without it counts as an error. */
  expect?: string
}

/** The body with a new UUID in place of each `[<id>]`. */
export function withFreshId(template: string): string {
  return template.replaceAll('[<id>]', crypto.randomUUID())
}

/**
 * A 100ms webhook as 100ms sends it (the documented `peer.join.success` sample), with an id that
 * withFreshId makes unique per request (each delivery is a new event, as in production) and a
 * current timestamp.
 */
export function webhookTemplate(sample: string, now = new Date()): string {
  const event = JSON.parse(sample) as Record<string, unknown>
  event.id = 'load-[<id>]'
  event.timestamp = now.toISOString().replace(/\.\d+Z$/, 'Z')
  return JSON.stringify(event)
}

export function buildScenarios(
  options: LoadOptions,
  {
    cookie,
    webhookSecret,
    webhookSample,
  }: { cookie?: string; webhookSecret?: string; webhookSample?: string },
): Scenario[] {
  const app = (path: string) => new URL(path, options.baseUrl).toString()
  const signedIn = () => {
    if (!cookie) throw new Error('the signed-in scenarios need a cookie')
    return { cookie }
  }
  return options.scenarios.map((name): Scenario => {
    switch (name) {
      case 'landing':
        return {
          name,
          label: 'landing page (GET /, anonymous)',
          url: app('/'),
          method: 'GET',
          headers: {},
        }
      case 'dashboard':
        return {
          name,
          label: 'dashboard (GET /dashboard, signed in)',
          url: app('/dashboard'),
          method: 'GET',
          headers: signedIn(),
        }
      case 'sessions':
        return {
          name,
          label: 'sessions list (GET /api/sessions)',
          url: app('/api/sessions'),
          method: 'GET',
          headers: {},
        }
      case 'recordings':
        return {
          name,
          label: 'recordings list (GET /api/recordings/list, signed in)',
          url: app('/api/recordings/list'),
          method: 'GET',
          headers: signedIn(),
        }
      case 'webhooks':
        if (!options.webhooksUrl || !webhookSecret || !webhookSample)
          throw new Error(
            'the webhooks scenario needs its URL, secret and sample',
          )
        return {
          name,
          label: 'webhook ingestion (POST /webhooks/100ms)',
          url: new URL('/webhooks/100ms', options.webhooksUrl).toString(),
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-kulti-webhook-secret': webhookSecret,
          },
          body: webhookTemplate(webhookSample),
          // Stored and applied, not merely received (a failed application still answers 200).
          expect: '"applied":true',
        }
    }
  })
}

/** The part of autocannon's result the table reads. */
export interface AutocannonResult {
  duration: number
  latency: { p50: number; p99: number }
  requests: { total: number; average: number }
  errors: number
  timeouts: number
  non2xx: number
  /** Answers whose body failed the scenario's `expect`. */
  mismatches: number
  statusCodeStats?: Record<string, { count: number }>
}

export interface LoadRow {
  label: string
  requests: number
  perSecond: number
  p50: number
  p99: number
  /** Connection errors (timeouts included), non-2xx answers and wrong bodies. */
  errors: number
  statuses: string
}

export function summarise(label: string, result: AutocannonResult): LoadRow {
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .map(([status, { count }]) => `${status}×${count}`)
    .join(' ')
  return {
    label,
    requests: result.requests.total,
    perSecond:
      result.duration > 0 ? result.requests.total / result.duration : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.mismatches,
    statuses: [
      statuses,
      result.mismatches ? `wrong body×${result.mismatches}` : '',
      result.timeouts ? `timeouts×${result.timeouts}` : '',
      result.errors - result.timeouts > 0
        ? `connection errors×${result.errors - result.timeouts}`
        : '',
    ]
      .filter(Boolean)
      .join(' '),
  }
}

/** A Markdown table, so the output pastes into docs as is. */
export function formatLoadTable(
  rows: readonly LoadRow[],
  {
    connections,
    durationSeconds,
  }: Pick<LoadOptions, 'connections' | 'durationSeconds'>,
): string {
  const header = [
    'scenario',
    'requests',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'answers',
  ]
  const cells = rows.map((r) => [
    r.label,
    String(r.requests),
    r.perSecond.toFixed(1),
    String(Math.round(r.p50)),
    String(Math.round(r.p99)),
    String(r.errors),
    r.statuses,
  ])
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.map((row) => row[i]!.length)),
  )
  const numeric = (i: number) => i >= 1 && i <= 5
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (numeric(i) ? '-'.repeat(w - 1) + ':' : '-'.repeat(w))).join(' | ')} |`
  return [
    `${connections} connections, ${durationSeconds} s per scenario`,
    '',
    line(header),
    rule,
    ...cells.map(line),
  ].join('\n')
}
