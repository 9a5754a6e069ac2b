// `npm run bench` (issue 14): one run, side by side on this machine, of (a) throughput and latency
// of a bare Worker and of the app's hot paths, (b) database round trips per page, (c) bundle sizes,
// (d) Worker start-up CPU and (e) Lighthouse. It writes bench/results.json and bench/results.md and
// prints the Markdown. Figures are reported next to the issue's targets; a missed target does not
// fail the run, a figure that could not be measured does (exit 1).
//
// Run: `npm run bench` (it builds first). With TEST_DATABASE_URL or DATABASE_URL set it uses a
// fresh `kulti_bench_app` database on that server; otherwise the embedded PGlite. Ports 8911-8916.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import lighthouse from 'lighthouse'
import pg from 'pg'
import { buildAll } from '../scripts/build.mjs'
import {
  median,
  renderReport,
  type BenchResults,
  type LighthouseFigure,
  type LighthouseScores,
  type LoadFigure,
  type RoundTripFigure,
  type StartupFigure,
  type WorkerSize,
} from '../scripts/lib/bench-report'
import { measureFirstLoads, uploadSize } from '../scripts/lib/bundle-sizes.mjs'
import {
  freePorts,
  startDevStack,
  startWrangler,
  waitUntilReady,
  type DevStack,
} from '../scripts/lib/dev-stack.mjs'
import { run } from '../scripts/lib/run.mjs'
import {
  ROOT,
  WRANGLER_BIN,
  wranglerEnv,
} from '../scripts/lib/wrangler-env.mjs'
import { signUp } from '../tests/support/auth'
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/support/browser'
import type { RunningWorkers } from '../tests/support/workers'

const HOST = '127.0.0.1'
// Ports of the bench's own range (8900-8919) that nothing else here uses.
const PORTS = {
  app: 8911,
  webhooks: 8912,
  hms: 8913,
  sentry: 8914,
  bare: 8915,
  chromium: 8916,
}
const CONNECTIONS = 100
const WARMUP_SECONDS = 2
const LOAD_SECONDS = 5
const STARTUP_RUNS = 5
const LIGHTHOUSE_RUNS = 5
const LIGHTHOUSE_RETRIES = 3
const WEBHOOK_SECRET = 'kulti-bench-webhook-secret-0123456789'
const BENCH_DATABASE = 'kulti_bench_app'
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const BARE_CONFIG = 'bench/bare-worker/wrangler.toml'
const KIB_BUDGETS = { app: 300, webhooks: 100 }

const started = performance.now()
/**
 * What the Workers say that sounds like a problem: printed while the stack starts, counted under
 * load (where a client cut off at the end of a run, or a slow query, is expected and would drown
 * the report), with the first of each kind kept for the summary.
 */
const workerProblems = {
  counting: false,
  count: 0,
  kinds: new Map<string, number>(),
}
function workerLog(line: string) {
  if (!/error|warn|fail|✘/i.test(line)) return
  if (!workerProblems.counting) return say(line)
  workerProblems.count += 1
  const kind = line
    .replace(/\{.*"msg":"([^"]+)".*/, '$1')
    .replace(/[0-9a-f-]{36}|\d+/g, '…')
    .slice(0, 160)
  workerProblems.kinds.set(kind, (workerProblems.kinds.get(kind) ?? 0) + 1)
}
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`
const say = (line: string) => console.log(`[bench ${elapsed()}] ${line}`)

/** Stops everything started so far, in reverse order. */
const cleanups: Array<() => Promise<unknown> | unknown> = []

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'kulti-bench-'))
  cleanups.push(() => rmSync(scratch, { recursive: true, force: true }))

  say('building (npm run build) and the bare Worker')
  const built = await buildAll({ quiet: true })
  const bareOut = path.join(scratch, 'bare')
  await run(
    WRANGLER_BIN,
    ['deploy', '--dry-run', '-c', BARE_CONFIG, '--outdir', bareOut],
    { env: wranglerEnv(), quiet: true },
  )

  const workers: WorkerSize[] = built.map(({ config, output }) => {
    const name = config === 'wrangler.toml' ? 'app' : 'webhooks'
    return {
      name: `${name} Worker`,
      ...uploadSize(output),
      budgetKiB: KIB_BUDGETS[name],
    }
  })
  const pages = measureFirstLoads(path.join(ROOT, 'public')).pages.map(
    (page) => ({ page: page.name, gzipBytes: page.bytes }),
  )

  say('start-up CPU of each bundle')
  const startup = await measureStartup(scratch, [
    { worker: 'bare', file: path.join(bareOut, 'index.js') },
    { worker: 'app', file: path.join(ROOT, 'dist/app/app.js') },
    { worker: 'webhooks', file: path.join(ROOT, 'dist/webhooks/index.js') },
  ])

  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL
  const databaseUrl = serverUrl
    ? await freshDatabase(serverUrl, BENCH_DATABASE)
    : undefined
  say(`starting the stack on ${databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}`)
  const stack: DevStack = await startDevStack({
    databaseUrl,
    dataDir: null,
    appPort: PORTS.app,
    webhooksPort: PORTS.webhooks,
    hmsPort: PORTS.hms,
    sentryPort: PORTS.sentry,
    persistTo: path.join(scratch, 'state'),
    vars: { HMS_WEBHOOK_SECRET: WEBHOOK_SECRET },
    log: workerLog,
  })
  cleanups.push(() => stack.stop())
  const bareUrl = await startBareWorker(stack, scratch)

  say('signing a bench user in (the real sign-in flow) and opening a room')
  const client = {
    app: (p: string, init?: RequestInit) =>
      fetch(new URL(p, stack.appUrl), init),
  }
  const username = `bench${Date.now() % 1e7}`
  const user = await signUp(client as unknown as RunningWorkers, {
    ip: '198.18.0.7',
    profile: { username, displayName: 'Bench user' },
  })
  const created = await user.send('POST', '/api/sessions', {
    title: 'Bench room',
    isPublic: true,
  })
  if (created.status !== 201)
    throw new Error(
      `opening a room failed: ${created.status} ${await created.text()}`,
    )
  const { session } = (await created.json()) as {
    session: { roomCode: string }
  }
  const cookie = user.cookie

  const pagesToVisit = [
    { page: 'landing', path: '/', signedIn: false, hot: true },
    { page: 'login', path: '/login', signedIn: false, hot: false },
    { page: 'dashboard', path: '/dashboard', signedIn: true, hot: true },
    {
      page: 'room',
      path: `/s/${session.roomCode}`,
      signedIn: true,
      hot: true,
    },
    { page: 'credits', path: '/credits', signedIn: true, hot: false },
    { page: 'recordings', path: '/recordings', signedIn: true, hot: false },
    { page: 'settings', path: '/settings', signedIn: true, hot: false },
    { page: 'profile', path: `/u/${username}`, signedIn: true, hot: false },
  ]

  say('database round trips per page')
  const roundTrips: RoundTripFigure[] = []
  for (const visit of pagesToVisit) {
    const get = () =>
      fetchPage(stack.appUrl + visit.path, visit.signedIn ? cookie : null)
    await get() // warm: the first request of an isolate may do one-off work
    await settle(stack)
    const before = stack.relayStats()
    await get()
    await settle(stack)
    const after = stack.relayStats()
    roundTrips.push({
      page: visit.page,
      path: visit.path,
      roundTrips: after.roundTrips - before.roundTrips,
      connections: after.upstreamConnections - before.upstreamConnections,
      hot: visit.hot,
    })
    say(
      `  ${visit.page} ${visit.path}: ${after.roundTrips - before.roundTrips} round trips, ` +
        `${after.upstreamConnections - before.upstreamConnections} connections`,
    )
  }

  say(
    `load: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${LOAD_SECONDS} s each`,
  )
  const webhookBody = JSON.stringify({
    ...JSON.parse(
      readFileSync(
        path.join(ROOT, 'tests/fixtures/100ms/webhooks/peer.join.success.json'),
        'utf8',
      ),
    ),
    id: '[<id>]',
  })
  const webhookHeaders = { 'content-type': 'application/json' }
  const scenarios: Scenario[] = [
    { name: 'bare Worker: constant', baseline: null, url: `${bareUrl}/` },
    {
      name: 'health /api/health',
      baseline: 'bare Worker: constant',
      url: `${stack.appUrl}/api/health`,
    },
    {
      name: 'landing /',
      baseline: 'bare Worker: constant',
      url: `${stack.appUrl}/`,
    },
    {
      name: 'dashboard /dashboard',
      baseline: 'bare Worker: constant',
      url: `${stack.appUrl}/dashboard`,
      headers: { cookie },
    },
    {
      name: 'bare Worker: one INSERT',
      baseline: null,
      url: `${bareUrl}/insert`,
      headers: webhookHeaders,
      body: webhookBody,
    },
    {
      name: 'webhook POST /webhooks/100ms',
      baseline: 'bare Worker: one INSERT',
      url: `${stack.webhooksUrl}/webhooks/100ms`,
      headers: { ...webhookHeaders, 'x-kulti-webhook-secret': WEBHOOK_SECRET },
      body: webhookBody,
    },
  ]
  const figures: LoadFigure[] = []
  workerProblems.counting = true
  for (const scenario of scenarios) {
    await probe(scenario)
    await autocannon(scenario, WARMUP_SECONDS)
    await settle(stack)
    const result = await autocannon(scenario, LOAD_SECONDS)
    const figure: LoadFigure = {
      name: scenario.name,
      baseline: scenario.baseline,
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      requests: result.requests.total,
      errors: result.errors + result.non2xx,
    }
    if (figure.requests === 0)
      throw new Error(`${scenario.name}: autocannon completed no request`)
    say(
      `  ${figure.name}: ${figure.requestsPerSecond.toFixed(0)} req/s, p50 ${figure.p50} ms, ` +
        `p99 ${figure.p99} ms, ${figure.errors} errors`,
    )
    figures.push(figure)
    // The requests still in flight when autocannon stopped finish before the next scenario.
    await settle(stack)
  }
  workerProblems.counting = false
  if (workerProblems.count) {
    say(
      `the Workers logged ${workerProblems.count} error or warning lines under load:`,
    )
    for (const [kind, count] of workerProblems.kinds)
      say(`  ${count} × ${kind}`)
  }

  say(`Lighthouse: ${LIGHTHOUSE_RUNS} runs of each page`)
  const lighthouseStarted = performance.now()
  const lighthouseRuns = await runLighthouse(
    scratch,
    pagesToVisit
      .filter((visit) =>
        [
          'landing',
          'login',
          'dashboard',
          'room',
          'credits',
          'recordings',
        ].includes(visit.page),
      )
      .map((visit) => ({
        page: visit.page,
        path: visit.path,
        url: stack.appUrl + visit.path,
        cookie: visit.signedIn ? cookie : null,
      })),
  )
  const lighthouseSeconds = (performance.now() - lighthouseStarted) / 1000

  const results: BenchResults = {
    benchmark: 'kulti',
    at: new Date().toISOString(),
    database: databaseUrl ? 'postgresql' : 'pglite',
    machine: { cpus: os.cpus().length, node: process.version },
    durationSeconds: (performance.now() - started) / 1000,
    load: {
      connections: CONNECTIONS,
      seconds: LOAD_SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      figures,
    },
    roundTrips,
    bundles: { workers, pages },
    startup,
    lighthouse: {
      runs: LIGHTHOUSE_RUNS,
      seconds: lighthouseSeconds,
      pages: lighthouseRuns.pages,
      retries: lighthouseRuns.retries,
    },
  }
  const report = renderReport(results)
  writeFileSync(
    path.join(BENCH_DIR, 'results.json'),
    JSON.stringify(results, null, 2) + '\n',
  )
  writeFileSync(path.join(BENCH_DIR, 'results.md'), report)
  console.log(`\n${report}`)
  say('wrote bench/results.json and bench/results.md')
}

/** A GET as a browser would make it; anything but a 200 means the page was not measured. */
async function fetchPage(url: string, cookie: string | null) {
  const response = await fetch(url, {
    headers: cookie ? { cookie } : {},
    redirect: 'manual',
  })
  await response.arrayBuffer()
  if (response.status !== 200)
    throw new Error(`GET ${url} answered ${response.status}, not 200`)
}

/** Waits until the relay has carried nothing for a while (waitUntil work after the response). */
async function settle(stack: DevStack) {
  let last = JSON.stringify(stack.relayStats())
  for (let quiet = 0; quiet < 3; ) {
    await sleep(100)
    const now = JSON.stringify(stack.relayStats())
    quiet = now === last ? quiet + 1 : 0
    last = now
  }
}

interface Scenario {
  name: string
  baseline: string | null
  url: string
  headers?: Record<string, string>
  /** POSTed when given; `[<id>]` in it becomes a fresh id per request. */
  body?: string
}

/** One request of the scenario, which must succeed: otherwise its load figures mean nothing. */
async function probe({ name, url, headers = {}, body }: Scenario) {
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body?.replaceAll('[<id>]', randomUUID()),
    redirect: 'manual',
  })
  const text = await response.text()
  if (!response.ok)
    throw new Error(
      `${name}: ${url} answered ${response.status}: ${text.slice(0, 300)}`,
    )
}

interface AutocannonResult {
  requests: { average: number; total: number }
  latency: { p50: number; p99: number }
  errors: number
  non2xx: number
}

/** bench/autocannon.mjs, in its own process. */
async function autocannon(
  { url, headers = {}, body }: Scenario,
  seconds: number,
) {
  const options = { url, connections: CONNECTIONS, seconds, headers, body }
  const output = await run(
    process.execPath,
    [path.join(BENCH_DIR, 'autocannon.mjs'), JSON.stringify(options)],
    { quiet: true },
  )
  return JSON.parse(output.slice(output.indexOf('{'))) as AutocannonResult
}

/** A database of its own on the given server, dropped and created afresh. */
async function freshDatabase(serverUrl: string, name: string) {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query(`drop database if exists ${name} with (force)`)
    await client.query(`create database ${name}`)
  } finally {
    await client.end()
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** The bare Worker under `wrangler dev`, as the stack runs the app, on the stack's database relay. */
async function startBareWorker(stack: DevStack, scratch: string) {
  const [inspector] = await freePorts(1)
  const env = wranglerEnv({
    WRANGLER_REGISTRY_PATH: path.join(scratch, 'bare-registry'),
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  })
  const worker = startWrangler('bare', env, () => {}, [
    '-c',
    BARE_CONFIG,
    '--ip',
    HOST,
    '--port',
    String(PORTS.bare),
    '--inspector-port',
    String(inspector),
    '--persist-to',
    path.join(scratch, 'bare-state'),
    '--show-interactive-dev-session=false',
    '--var',
    `DATABASE_URL:${stack.databaseUrl}`,
    '--var',
    `DB_WSPROXY:${stack.wsProxy}`,
  ])
  cleanups.push(() => worker.stop())
  const url = `http://${HOST}:${PORTS.bare}`
  await waitUntilReady(worker, `${url}/`, async () => {}, say)
  return url
}

/**
 * CPU time (user + system) of importing each bundle in a fresh Node process: V8 parsing,
 * compiling and running the module's top level, which is what Cloudflare's start-up limit
 * measures. `cloudflare:workers` is replaced by a stub module (classes only), and the cost of
 * importing an empty module is subtracted. Median of STARTUP_RUNS processes.
 */
async function measureStartup(
  scratch: string,
  bundles: Array<{ worker: string; file: string }>,
): Promise<StartupFigure[]> {
  const dir = path.join(scratch, 'startup')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    path.join(dir, 'cloudflare-workers.mjs'),
    'export class DurableObject {}\nexport class WorkerEntrypoint {}\nexport class RpcTarget {}\nexport const env = {}\n',
  )
  writeFileSync(path.join(dir, 'empty.mjs'), 'export default {}\n')
  const measure = path.join(dir, 'measure.mjs')
  writeFileSync(
    measure,
    `const before = process.cpuUsage()
await import(process.argv[2])
const used = process.cpuUsage(before)
console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000 }))
`,
  )
  const cpuOf = async (file: string) => {
    const output = await run(process.execPath, [measure, file], {
      quiet: true,
    })
    return (JSON.parse(output) as { cpuMs: number }).cpuMs
  }
  const medianOf = async (file: string) => {
    const samples: number[] = []
    for (let i = 0; i < STARTUP_RUNS; i++) samples.push(await cpuOf(file))
    return median(samples)
  }
  const empty = await medianOf(path.join(dir, 'empty.mjs'))
  const figures: StartupFigure[] = []
  for (const { worker, file } of bundles) {
    const copy = path.join(dir, `${worker}.mjs`)
    writeFileSync(
      copy,
      readFileSync(file, 'utf8').replaceAll(
        /(from\s*|import\s*)["']cloudflare:workers["']/g,
        '$1"./cloudflare-workers.mjs"',
      ),
    )
    figures.push({
      worker,
      cpuMs: Math.max(0, (await medianOf(copy)) - empty),
      runs: STARTUP_RUNS,
    })
  }
  return figures
}

/** One Chromium for every run; each page LIGHTHOUSE_RUNS times, each category's median. */
async function runLighthouse(
  scratch: string,
  targets: Array<{
    page: string
    path: string
    url: string
    cookie: string | null
  }>,
): Promise<{ pages: LighthouseFigure[]; retries: number }> {
  const chromium = spawn(
    CHROMIUM,
    [
      ...CHROMIUM_ARGS,
      `--remote-debugging-port=${PORTS.chromium}`,
      `--remote-debugging-address=${HOST}`,
      `--user-data-dir=${path.join(scratch, 'chromium')}`,
      'about:blank',
    ],
    { stdio: 'ignore', detached: true },
  )
  const stopChromium = () => {
    try {
      if (chromium.pid) process.kill(-chromium.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  cleanups.push(stopChromium)
  await waitForDebugger()
  const figures: LighthouseFigure[] = []
  let retries = 0
  for (const target of targets) {
    const runs: LighthouseScores[] = []
    for (let attempt = 1; runs.length < LIGHTHOUSE_RUNS; attempt++) {
      const result = await lighthouse(target.url, {
        port: PORTS.chromium,
        hostname: HOST,
        output: 'json',
        logLevel: 'error',
        onlyCategories: [
          'performance',
          'accessibility',
          'best-practices',
          'seo',
        ],
        ...(target.cookie ? { extraHeaders: { cookie: target.cookie } } : {}),
      })
      const lhr = result?.lhr
      if (!lhr) throw new Error(`Lighthouse returned nothing for ${target.url}`)
      if (lhr.runtimeError) {
        // Now and then the trace of a load comes back without its navigation start (NO_NAVSTART):
        // that run says nothing about the page, so it is run again, a bounded number of times.
        const problem = `Lighthouse on ${target.url}: ${lhr.runtimeError.message}`
        if (attempt - runs.length > LIGHTHOUSE_RETRIES) throw new Error(problem)
        say(`  ${problem}; running it again`)
        retries += 1
        continue
      }
      const score = (id: string) => {
        const value = lhr.categories[id]?.score
        if (typeof value !== 'number')
          throw new Error(`Lighthouse gave ${target.url} no ${id} score`)
        return Math.round(value * 100)
      }
      // The score alone does not say what to fix: name the audits that cost points.
      const failing = Object.values(lhr.categories)
        .filter((category) => category.id !== 'performance')
        .flatMap((category) => category.auditRefs)
        .filter((ref) => ref.weight > 0 && (lhr.audits[ref.id]?.score ?? 1) < 1)
        .map((ref) => ref.id)
      if (failing.length > 0)
        say(
          `  ${target.page}: failed audits ${[...new Set(failing)].join(', ')}`,
        )
      runs.push({
        performance: score('performance'),
        accessibility: score('accessibility'),
        bestPractices: score('best-practices'),
        seo: score('seo'),
      })
    }
    const medianOf = (category: keyof LighthouseScores) =>
      median(runs.map((scores) => scores[category]))
    const figure: LighthouseFigure = {
      page: target.page,
      path: target.path,
      median: {
        performance: medianOf('performance'),
        accessibility: medianOf('accessibility'),
        bestPractices: medianOf('bestPractices'),
        seo: medianOf('seo'),
      },
      runs: runs.length,
    }
    say(
      `  ${target.page}: ${figure.median.performance}/${figure.median.accessibility}/` +
        `${figure.median.bestPractices}/${figure.median.seo}`,
    )
    figures.push(figure)
  }
  return { pages: figures, retries }
}

async function waitForDebugger() {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try {
      const response = await fetch(
        `http://${HOST}:${PORTS.chromium}/json/version`,
      )
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(200)
  }
  throw new Error(`Chromium never opened its debugging port ${PORTS.chromium}`)
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

let exitCode = 0
try {
  await main()
} catch (error) {
  console.error(
    `\nbench failed: a measurement could not be taken.\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  )
  exitCode = 1
} finally {
  for (const cleanup of cleanups.reverse()) {
    await Promise.resolve()
      .then(cleanup)
      .catch((error: unknown) => console.error(`cleanup failed: ${error}`))
  }
  say(`done in ${elapsed()}`)
}
process.exit(exitCode)
