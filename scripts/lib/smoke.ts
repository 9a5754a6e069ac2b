// The pure parts of `npm run smoke` (scripts/smoke.ts): its arguments, what a deployment's answers
// must look like, and the table. Kept free of I/O so scripts/lib/smoke.test.ts can check each rule.
import { parseOptions, parseOrigin, UsageError } from './cli-args'

export { UsageError }

export const SMOKE_USAGE = `usage: npm run smoke -- <base-url> [<webhooks-url>] [--webhooks <url>] [--timeout <seconds>]

  <base-url>       the app Worker, e.g. https://kulti.example or http://127.0.0.1:8787
  <webhooks-url>   the webhooks Worker (its origin, without /webhooks/100ms), e.g.
                   https://webhooks.kulti.example; also --webhooks <url>. Defaults to
                   http://127.0.0.1:8788 (npm run dev's) when <base-url> is npm run dev's 8787
  --timeout        seconds to wait for each answer (default 10)

Prints one PASS, FAIL or SKIP line per check (SKIP: not applicable to this target, e.g. the outbox
check over http); exits 0 when no check fails, 1 when one fails, 2 on bad usage.`

export interface SmokeOptions {
  baseUrl: URL
  webhooksUrl: URL
  timeoutMs: number
}

/** npm run dev's addresses (scripts/lib/dev-stack.mjs): the app on 8787, the webhooks Worker on 8788. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
const DEV_APP_PORT = '8787'
const DEV_WEBHOOKS_PORT = '8788'

/** The webhooks Worker npm run dev starts next to an app at `base`, or null for any other base. */
export function defaultWebhooksUrl(base: URL): URL | null {
  if (!LOCAL_HOSTS.has(base.hostname) || base.port !== DEV_APP_PORT) return null
  return new URL(`http://${base.hostname}:${DEV_WEBHOOKS_PORT}`)
}

export function parseSmokeArgs(argv: readonly string[]): SmokeOptions {
  const positional: string[] = []
  const options: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg.startsWith('--')) {
      options.push(arg)
      // A `--name value` pair: the value is the option's, not a positional URL.
      if (!arg.includes('=') && i + 1 < argv.length) options.push(argv[++i]!)
    } else positional.push(arg)
  }
  const { webhooks, timeout } = parseOptions(options, {
    strings: ['webhooks', 'timeout'],
  })
  if (positional.length === 0) throw new UsageError('give the base URL')
  if (positional.length > 2)
    throw new UsageError(`unexpected argument: ${positional[2]}`)
  if (positional[1] !== undefined && webhooks !== undefined)
    throw new UsageError('give the webhooks URL once (argument or --webhooks)')
  const baseUrl = parseOrigin(positional[0]!, 'the base URL')
  const given = positional[1] ?? webhooks
  const webhooksUrl =
    given === undefined
      ? defaultWebhooksUrl(baseUrl)
      : parseOrigin(given, 'the webhooks URL')
  if (!webhooksUrl)
    throw new UsageError(
      `give the webhooks Worker's URL (second argument or --webhooks): only npm run dev's ` +
        `http://127.0.0.1:${DEV_APP_PORT} has a default`,
    )
  const seconds = timeout === undefined ? 10 : Number(timeout)
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300)
    throw new UsageError('--timeout must be a number of seconds from 1 to 300')
  return { baseUrl, webhooksUrl, timeoutMs: Math.round(seconds * 1000) }
}

// SPEC §7's security headers, written out (not imported from workers/security-headers.ts) so a
// deployment that drifts from the contract fails the smoke test, whatever its source says. The
// header tests read the same copy (tests/support/security-headers.ts).
export const FIXED_HEADERS: Record<string, string> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'permissions-policy':
    'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()',
  'cross-origin-opener-policy': 'same-origin',
  'x-xss-protection': '0',
}

const CONNECT_SOURCES =
  "'self' https://*.100ms.live wss://*.100ms.live https://*.ingest.sentry.io https://*.ingest.us.sentry.io https://*.ingest.de.sentry.io"

/**
 * The CSP's directives. `nonce`: the app Worker's pages and JSON carry a fresh one in script-src;
 * static files and the webhooks Worker allow scripts from our origin only. `https`: the policy also
 * names the Reporting API group (the app Worker over https, static files, the webhooks Worker).
 */
export function expectedPolicy(
  nonce: string | null,
  https: boolean,
): Record<string, string> {
  return {
    'default-src': "'self'",
    'script-src': nonce ? `'self' 'nonce-${nonce}'` : "'self'",
    'style-src': "'self' 'unsafe-inline'",
    'img-src': "'self' data: blob: https:",
    'media-src': "'self' blob: https:",
    'connect-src': CONNECT_SOURCES,
    'worker-src': "'self' blob:",
    'font-src': "'self'",
    'frame-ancestors': "'none'",
    'object-src': "'none'",
    'base-uri': "'self'",
    'form-action': "'self'",
    'report-uri': '/api/csp-report',
    ...(https ? { 'report-to': 'csp' } : {}),
  }
}

export function parsePolicy(csp: string): Record<string, string> {
  return Object.fromEntries(
    csp
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [name, ...sources] = part.split(/\s+/)
        return [name!.toLowerCase(), sources.join(' ')]
      }),
  )
}

/** The nonce in a response's CSP, or null. */
export function nonceOf(headers: Headers): string | null {
  const csp = headers.get('content-security-policy') ?? ''
  return /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1] ?? null
}

/**
 * What differs from the SPEC §7 set, one line per header (empty: all present and exact). `nonce`
 * says whether script-src must carry a fresh 128-bit nonce; `https` whether the Reporting API
 * variant is expected.
 */
export function headerProblems(
  headers: Headers,
  { nonce, https }: { nonce: boolean; https: boolean },
): string[] {
  const problems: string[] = []
  for (const [name, value] of Object.entries(FIXED_HEADERS)) {
    const got = headers.get(name)
    if (got !== value)
      problems.push(got === null ? `${name} missing` : `${name}: ${got}`)
  }
  const reporting = headers.get('reporting-endpoints')
  const wantReporting = https ? 'csp="/api/csp-report"' : null
  if (reporting !== wantReporting)
    problems.push(
      reporting === null
        ? 'reporting-endpoints missing'
        : `reporting-endpoints: ${reporting}`,
    )
  const csp = headers.get('content-security-policy')
  if (csp === null) {
    problems.push('content-security-policy missing')
    return problems
  }
  const found = nonceOf(headers)
  if (nonce && !/^[A-Za-z0-9+/]{22}==$/.test(found ?? ''))
    problems.push('content-security-policy: no 128-bit nonce in script-src')
  if (!nonce && found !== null)
    problems.push('content-security-policy: a nonce where none is expected')
  const want = expectedPolicy(nonce ? found : null, https)
  const got = parsePolicy(csp)
  for (const name of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (want[name] === got[name]) continue
    problems.push(
      name in got
        ? `content-security-policy ${name}: ${got[name]}`
        : `content-security-policy: no ${name}`,
    )
  }
  return problems
}

/** Every `<script>` tag carries the response's nonce (and there is at least one). */
export function scriptNonceProblems(html: string, nonce: string): string[] {
  const scripts = [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0])
  if (scripts.length === 0) return ['no <script> tag']
  const bare = scripts.filter((tag) => !tag.includes(`nonce="${nonce}"`))
  return bare.length === 0
    ? []
    : [`${bare.length} of ${scripts.length} <script> tags without the nonce`]
}

/** The sign-in page's first step: a form that posts a phone number (app/routes/login.tsx). */
export function phoneFormProblems(html: string): string[] {
  const problems: string[] = []
  if (!/<form\b[^>]*method="post"/i.test(html)) problems.push('no POST form')
  if (!/<input\b[^>]*name="phone"/i.test(html)) problems.push('no phone input')
  if (
    !/name="intent"[^>]*value="send"|value="send"[^>]*name="intent"/i.test(html)
  )
    problems.push('no send button')
  return problems
}

export interface CheckResult {
  name: string
  ok: boolean
  /** Not applicable to this target (counts as passed, shown as SKIP). */
  skipped?: boolean
  /** What was seen: a status, a count, the problems. */
  detail: string
  ms: number
}

/** A fixed-width table: one line per check, PASS or FAIL, and a summary line. */
export function formatTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [
    r.skipped ? 'SKIP' : r.ok ? 'PASS' : 'FAIL',
    r.name,
    `${Math.round(r.ms)} ms`,
    r.detail,
  ])
  const header = ['result', 'check', 'time', 'detail']
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]!.length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1
          ? cell
          : i === 2
            ? cell.padStart(widths[i]!)
            : cell.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd()
  const failed = results.filter((r) => !r.ok).length
  const skipped = results.filter((r) => r.skipped).length
  const passed = results.length - failed - skipped
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `smoke: ${passed} passed, ${failed} failed, ${skipped} skipped` +
      (failed === 0 ? '' : ' (FAILED)'),
  ].join('\n')
}
