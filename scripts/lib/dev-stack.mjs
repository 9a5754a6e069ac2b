// Everything `npm run dev` (and the browser tests) need around the two Workers: a Postgres (the
// embedded PGlite unless one is given), its WebSocket relay, migrations, demo data, .dev.vars, the
// fake 100ms (tests/fakes/hms.mjs), and one `wrangler dev` per Worker. It assumes the Remix build
// (build/index.js, public/build) exists.
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { FAKE_HMS_PORT, startFakeHms } from '../../tests/fakes/hms.mjs'
import { FAKE_SENTRY_PORT, startFakeSentry } from '../../tests/fakes/sentry.mjs'
import { parseVarsFile } from '../check-env.mjs'
import { startEmbeddedPostgres } from './embedded-postgres.mjs'
import { migrate } from './migrate.mjs'
import { seed as seedDemoData } from './seed.mjs'
import { versionDefine } from './version.mjs'
import { ROOT, WRANGLER_BIN, wranglerEnv } from './wrangler-env.mjs'
import { startWsRelay } from './ws-relay.mjs'

export const DEV_VARS = path.join(ROOT, '.dev.vars')
export const DEV_VARS_EXAMPLE = path.join(ROOT, '.dev.vars.example')
export const DEFAULT_DATA_DIR = path.join(ROOT, '.data', 'pglite')
export const DEFAULT_PERSIST_TO = path.join(ROOT, '.wrangler', 'state')

const HOST = '127.0.0.1'
// A cold `wrangler dev` bundles the Worker and boots workerd: a few seconds on a 2-core machine.
const READY_TIMEOUT_MS = 90_000
const STOP_GRACE_MS = 5_000
// Below Postgres's default max_connections (100), leaving room for direct connections and tests.
const DEV_RELAY_MAX_IDLE = 60
const TAIL_LINES = 40

/**
 * @typedef {object} DevStack
 * @property {string} appUrl
 * @property {string} webhooksUrl
 * @property {string} databaseUrl the Postgres the Workers use (through the relay)
 * @property {string} wsProxy host:port of the WebSocket relay (the Workers' DB_WSPROXY)
 * @property {() => import('./ws-relay.mjs').RelayStats} relayStats what the relay has carried so
 *   far (database round trips, connections)
 * @property {boolean} embedded whether the database is the embedded PGlite
 * @property {string | null} dataDir where PGlite keeps its data (null: in memory, or not PGlite)
 * @property {string} persistTo where wrangler keeps Durable Object and R2 state
 * @property {string} hmsUrl the fake 100ms (its /v2 API and its /_fake/ control API)
 * @property {import('../../tests/fakes/hms.mjs').FakeHms} hms the fake 100ms itself, in this process
 * @property {boolean} usesFakeHms whether the app Worker talks to it: false when .dev.vars (or
 *   `vars`) sets HMS_API_BASE to another service
 * @property {string} sentryUrl the fake Sentry ingest (its page lists what the Workers sent)
 * @property {import('../../tests/fakes/sentry.mjs').FakeSentry} sentry the fake Sentry itself
 * @property {boolean} usesFakeSentry whether the Workers report to it: false when .dev.vars (or
 *   `vars`) sets SENTRY_DSN
 * @property {Promise<{ name: string, how: string, tail: string }>} crashed settles only if a
 *   `wrangler dev` exits on its own after the start (a crash), with its last lines
 * @property {() => Promise<void>} stop stops every child, then the relay and the database
 */

/**
 * @param {{
 *   databaseUrl?: string,
 *   dataDir?: string | null,
 *   appPort?: number,
 *   webhooksPort?: number,
 *   seed?: boolean,
 *   log?: (line: string) => void,
 *   persistTo?: string,
 *   vars?: Record<string, string>,
 *   hmsPort?: number,
 *   sentryPort?: number,
 * }} [options]
 *   `hmsPort`: where the fake 100ms listens (default 8790; a free port when that one is taken).
 *   Unless HMS_API_BASE is set elsewhere, the app Worker gets the fake's URL and credentials and
 *   HMS_WEBHOOK_URL pointing at this stack's webhooks Worker; `vars` override them.
 *   `sentryPort`: where the fake Sentry ingest listens (default 8791; a free port when taken).
 *   Unless SENTRY_DSN is set elsewhere, both Workers report to it.
 * @returns {Promise<DevStack>}
 */
export async function startDevStack({
  databaseUrl,
  dataDir = DEFAULT_DATA_DIR,
  appPort = 8787,
  webhooksPort = 8788,
  seed = true,
  log = console.log,
  persistTo = DEFAULT_PERSIST_TO,
  vars = {},
  hmsPort = FAKE_HMS_PORT,
  sentryPort = FAKE_SENTRY_PORT,
} = {}) {
  /** @type {Array<() => Promise<void>>} undone in reverse order by stop() */
  const cleanups = []
  let stopping
  const stop = () => {
    stopping ??= (async () => {
      for (const cleanup of cleanups.reverse()) {
        await cleanup().catch((error) =>
          log(`cleanup failed: ${error.message}`),
        )
      }
    })()
    return stopping
  }

  try {
    requireRemixBuild()
    // A busy port would otherwise surface later as an obscure wrangler error, after the slow part.
    await requireFreePort(appPort, 'the app Worker')
    await requireFreePort(webhooksPort, 'the webhooks Worker')

    const embedded = !databaseUrl
    let connectionString = databaseUrl
    if (embedded) {
      const postgres = await startEmbeddedPostgres({
        dataDir: dataDir ?? undefined,
        host: HOST,
      })
      cleanups.push(() => postgres.close())
      connectionString = postgres.connectionString
      log(
        `database: embedded PGlite on port ${postgres.port}, data ${dataDir ?? 'in memory'}`,
      )
    } else {
      log(`database: ${redact(connectionString)}`)
    }

    // Direct `pg` work first: PGlite serves one connection, which the relay takes afterwards.
    const { applied, latest } = await migrate(connectionString).catch(
      (error) => {
        throw new Error(
          `could not migrate ${redact(connectionString)}: ${error.message}`,
        )
      },
    )
    log(
      applied.length
        ? `migrations: applied ${applied.join(', ')}`
        : `migrations: up to date (${latest ?? 'none'})`,
    )
    if (seed) await seedDemoData(connectionString, { log })

    // PGlite has one backend, so its clients must take turns. A real Postgres gets pooled backends
    // (ADR 020), enough idle ones kept for a load test's 100 connections not to fork new ones.
    const relay = await startWsRelay({
      host: HOST,
      serialize: embedded,
      pool: { maxIdle: DEV_RELAY_MAX_IDLE },
    })
    cleanups.push(() => relay.close())

    ensureDevVars(log)

    const appUrl = `http://${HOST}:${appPort}`
    const webhooksUrl = `http://${HOST}:${webhooksPort}`
    const video = await startVideoFake({ hmsPort, vars, webhooksUrl, log })
    cleanups.push(() => video.hms.close())
    const errors = await startErrorsFake({ sentryPort, vars, log })
    cleanups.push(() => errors.sentry.close())

    const [appInspector, webhooksInspector] = await freePorts(2)
    const common = [
      '--ip',
      HOST,
      '--persist-to',
      persistTo,
      // Both Workers read the one .dev.vars at the root; by default wrangler looks next to each
      // wrangler.toml, which for the webhooks Worker is workers/webhooks/.
      '--env-file',
      DEV_VARS,
      '--define',
      versionDefine(),
      '--show-interactive-dev-session=false',
      ...varArgs({
        // wrangler.toml says production, whose rules refuse the relay (DB_WSPROXY): without an
        // ENVIRONMENT in .dev.vars, the runner says development.
        ...(definesEnvironment(DEV_VARS) ? {} : { ENVIRONMENT: 'development' }),
        ...video.vars,
        ...errors.vars,
        ...vars,
        DATABASE_URL: connectionString,
        DB_WSPROXY: relay.address,
      }),
    ]
    /** @type {Array<ReturnType<typeof startWrangler>>} */
    const workers = []
    // All at once: each may take a few seconds to let workerd go.
    cleanups.push(async () => {
      await Promise.all(workers.map((worker) => worker.stop()))
    })

    // Both Workers are called "kulti…" in every stack, so two stacks (npm run dev and the browser
    // tests) sharing one dev registry would bind to each other's Durable Object: a stack with its
    // own state gets its own registry.
    const registryPath =
      persistTo === DEFAULT_PERSIST_TO
        ? wranglerEnv().WRANGLER_REGISTRY_PATH
        : path.join(persistTo, 'registry')
    const env = wranglerEnv({
      WRANGLER_REGISTRY_PATH: registryPath,
      FORCE_COLOR: '0',
      NO_COLOR: '1',
    })

    const app = startWrangler('app', env, log, [
      // Cron Triggers do not fire locally; this serves /__scheduled to run them by hand.
      '--test-scheduled',
      '--port',
      String(appPort),
      '--inspector-port',
      String(appInspector),
      ...common,
    ])
    workers.push(app)
    await waitUntilReady(app, `${appUrl}/api/health`, readHealth, log)
    // The webhooks Worker reaches the app's Durable Object through wrangler's dev registry. Started
    // alongside the app, it sometimes never learned the app's entry ("Worker "kulti" not found"
    // from every RATE_LIMITER call) until restarted, so it starts once the app is registered.
    await waitForRegistration(
      app,
      registryPath,
      readWorkerName('wrangler.toml'),
    )

    const webhooks = startWrangler('webhooks', env, log, [
      '-c',
      'workers/webhooks/wrangler.toml',
      '--port',
      String(webhooksPort),
      '--inspector-port',
      String(webhooksInspector),
      ...common,
    ])
    workers.push(webhooks)
    await waitUntilReady(webhooks, `${webhooksUrl}/`, async () => {}, log)

    return {
      appUrl,
      webhooksUrl,
      databaseUrl: connectionString,
      wsProxy: relay.address,
      relayStats: () => relay.stats(),
      embedded,
      dataDir: embedded ? dataDir : null,
      persistTo,
      hmsUrl: video.hms.url,
      hms: video.hms,
      usesFakeHms: video.used,
      sentryUrl: errors.sentry.url,
      sentry: errors.sentry,
      usesFakeSentry: errors.used,
      crashed: Promise.race([app.crashed, webhooks.crashed]),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Starts the fake 100ms and decides whether the app Worker uses it: yes unless HMS_API_BASE (in
 * `vars`, or in .dev.vars) names something other than the fake's usual address. The fake takes
 * the credentials .dev.vars has, so the two always agree.
 * @param {{
 *   hmsPort: number,
 *   vars: Record<string, string>,
 *   webhooksUrl: string,
 *   log: (line: string) => void,
 * }} options
 */
async function startVideoFake({ hmsPort, vars, webhooksUrl, log }) {
  const devVars = parseVarsFile(readFileSync(DEV_VARS, 'utf8')).vars
  /** @param {string} name */
  const setting = (name) => vars[name] ?? devVars[name] ?? undefined
  const webhookSecret = setting('HMS_WEBHOOK_SECRET')
  const options = {
    accessKey: setting('HMS_ACCESS_KEY'),
    secret: setting('HMS_SECRET'),
    templateId: setting('HMS_TEMPLATE_ID'),
    // The workspace webhook, for rooms created without one of their own.
    defaultWebhook: {
      url: `${webhooksUrl}/webhooks/100ms`,
      headers: webhookSecret ? { 'x-kulti-webhook-secret': webhookSecret } : {},
    },
    log: (/** @type {string} */ line) => log(`[100ms] ${line}`),
  }
  let hms
  try {
    hms = await startFakeHms({ ...options, host: HOST, port: hmsPort })
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code
    if (code !== 'EADDRINUSE' || hmsPort === 0) throw error
    hms = await startFakeHms({ ...options, host: HOST, port: 0 })
    log(
      `fake 100ms: port ${hmsPort} is in use, listening on ${hms.port} instead`,
    )
  }
  const base = setting('HMS_API_BASE')
  const used = !('HMS_API_BASE' in vars) && isUsualFakeAddress(base)
  if (!used) log(`100ms: HMS_API_BASE=${base} (the fake at ${hms.url} is idle)`)
  return {
    hms,
    used,
    /** @type {Record<string, string>} */
    vars: used
      ? {
          HMS_API_BASE: hms.url,
          HMS_ACCESS_KEY: hms.accessKey,
          HMS_SECRET: hms.secret,
          HMS_TEMPLATE_ID: hms.templateId,
          // This stack's webhooks Worker, whatever port it has (the browser tests use others).
          HMS_WEBHOOK_URL: `${webhooksUrl}/webhooks/100ms`,
        }
      : {},
  }
}

/**
 * Starts the fake Sentry ingest; the Workers report to it unless SENTRY_DSN is set (in `vars` or
 * .dev.vars), so a developer sees what production would send without an account.
 * @param {{ sentryPort: number, vars: Record<string, string>, log: (line: string) => void }} options
 */
async function startErrorsFake({ sentryPort, vars, log }) {
  const devVars = parseVarsFile(readFileSync(DEV_VARS, 'utf8')).vars
  const options = {
    host: HOST,
    log: (/** @type {string} */ line) => log(`[sentry] ${line}`),
  }
  let sentry
  try {
    sentry = await startFakeSentry({ ...options, port: sentryPort })
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code
    if (code !== 'EADDRINUSE' || sentryPort === 0) throw error
    sentry = await startFakeSentry({ ...options, port: 0 })
    log(
      `fake Sentry: port ${sentryPort} is in use, listening on ${sentry.port} instead`,
    )
  }
  const used = !(vars.SENTRY_DSN ?? devVars.SENTRY_DSN)
  return {
    sentry,
    used,
    /** @type {Record<string, string>} */
    vars: used ? { SENTRY_DSN: sentry.dsn } : {},
  }
}

/** Unset, or the fake's usual address (what .dev.vars.example says). @param {string | undefined} base */
function isUsualFakeAddress(base) {
  if (!base) return true
  try {
    const url = new URL(base)
    return (
      url.protocol === 'http:' &&
      (url.hostname === HOST || url.hostname === 'localhost') &&
      url.port === String(FAKE_HMS_PORT)
    )
  } catch {
    return false
  }
}

function requireRemixBuild() {
  for (const file of ['build/index.js', 'public/build']) {
    if (!existsSync(path.join(ROOT, file))) {
      throw new Error(
        `${file} is missing: run \`npx remix build\` first (npm run dev does it for you)`,
      )
    }
  }
}

/** Creates .dev.vars from the example on first run, so a fresh checkout starts with no setup. */
export function ensureDevVars(log = console.log) {
  if (existsSync(DEV_VARS)) return false
  copyFileSync(DEV_VARS_EXAMPLE, DEV_VARS)
  log('created .dev.vars from .dev.vars.example (local secrets; git-ignored)')
  return true
}

/** The `name` of a Worker, from its wrangler.toml. @param {string} configPath */
function readWorkerName(configPath) {
  const toml = readFileSync(path.join(ROOT, configPath), 'utf8')
  const name = /^name\s*=\s*"([^"]+)"/m.exec(toml)?.[1]
  if (!name) throw new Error(`${configPath} has no name`)
  return name
}

/**
 * Waits until the dev registry (WRANGLER_REGISTRY_PATH) lists `name` at a debug port that
 * accepts connections: an entry left by a killed run points at a dead port.
 * @param {ReturnType<typeof startWrangler>} worker
 * @param {string} registryPath
 * @param {string} name
 */
async function waitForRegistration(worker, registryPath, name) {
  const file = path.join(registryPath, name)
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    try {
      const { debugPortAddress } = JSON.parse(readFileSync(file, 'utf8'))
      if (await acceptsConnections(debugPortAddress)) return
    } catch {
      // not written yet, or half written
    }
    await sleep(100)
  }
  throw new Error(
    `the ${worker.name} Worker never registered as "${name}" in ${path.relative(ROOT, file)}.\n` +
      `wrangler's last output:\n${indent(worker.tail())}`,
  )
}

/** @param {string} address host:port */
function acceptsConnections(address) {
  const at = address.lastIndexOf(':')
  return new Promise((resolve) => {
    const socket = net.connect(
      Number(address.slice(at + 1)),
      address.slice(0, at),
    )
    socket.setTimeout(1_000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/** @param {string} file */
function definesEnvironment(file) {
  return /^\s*(?:export\s+)?ENVIRONMENT\s*=\s*\S/m.test(
    readFileSync(file, 'utf8'),
  )
}

/** @param {Record<string, string>} vars */
function varArgs(vars) {
  return Object.entries(vars).flatMap(([key, value]) => [
    '--var',
    `${key}:${value}`,
  ])
}

/** @param {number} port @param {string} what */
async function requireFreePort(port, what) {
  const server = net.createServer()
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, HOST, () => resolve(undefined))
    })
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EADDRINUSE')
      throw error
    throw new Error(
      `port ${port} on ${HOST} (for ${what}) is already in use: is another \`npm run dev\` running?`,
    )
  } finally {
    await new Promise((resolve) => server.close(() => resolve(undefined)))
  }
}

/**
 * Ports the OS says are free now. All are held open until every one is chosen, so two calls
 * cannot return the same port.
 * @param {number} count
 */
export async function freePorts(count) {
  const servers = []
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer()
      servers.push(server)
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, HOST, () => resolve(undefined))
      })
    }
    return servers.map(
      (server) => /** @type {net.AddressInfo} */ (server.address()).port,
    )
  } finally {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise((resolve) => server.close(() => resolve(undefined))),
      ),
    )
  }
}

// Until a Worker is ready its output is the banner, the bindings table and our own polling; only
// problems are worth showing then (all of it is kept for the error message if it never gets ready).
const PROBLEM = /error|warn|✘|▲|failed|exception/i
// Repeats of wrangler's own housekeeping, even after start: they say nothing a developer acts on.
const NOISE = [
  /^\s*$/,
  /^⎔ (Reloading|Starting) local server/,
  // Every rebuild prints these, for both Workers; remix watch already says "Rebuilt".
  /^⎔ Connection status updated/,
  /^⎔ Local server updated and ready/,
  /^\[wrangler:info\] ✨ Parsed \d+ valid header rules/,
  /Scheduled Workers are not automatically triggered/,
  /^⛅️ wrangler/,
  /^─+$/,
  /^\[wrangler:info\] Ready on/,
  /Your Worker has access to the following bindings/,
  /^Using (secrets|vars) defined in/,
  /^\s*(Binding|env\.\w+)/,
  /^No bindings found/,
]

/**
 * Spawns `wrangler dev` in its own process group, so stop() also reaches workerd, which wrangler
 * starts as its child and which would otherwise outlive it and keep the port.
 * @param {string} name
 * @param {NodeJS.ProcessEnv} env
 * @param {(line: string) => void} log
 * @param {string[]} args
 */
export function startWrangler(name, env, log, args) {
  const child = spawn(WRANGLER_BIN, ['dev', ...args], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  /** @type {string[]} */
  const tail = []
  let ready = false
  // wrangler logs the readiness probe that succeeded after we have seen it succeed: skip that line.
  /** @type {RegExp | null} */
  let probeEcho = null
  const prefix = `[${name}]`
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (raw) => {
      // eslint-disable-next-line no-control-regex
      const line = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd()
      tail.push(line)
      if (tail.length > TAIL_LINES) tail.shift()
      if (NOISE.some((pattern) => pattern.test(line))) return
      if (probeEcho?.test(line)) {
        probeEcho = null
        return
      }
      if (!ready && !PROBLEM.test(line)) return
      log(`${prefix} ${line}`)
    })
  }
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', (error) => {
      tail.push(String(error))
      resolve({ code: null, signal: null })
    })
  })
  // Last resort if this process exits without stop() (an uncaught error): leave no workerd behind.
  const killOnExit = () => killGroup(child.pid, 'SIGKILL')
  process.once('exit', killOnExit)

  let stopRequested = false
  return {
    name,
    exited,
    crashed: exited.then(({ code, signal }) =>
      stopRequested
        ? new Promise(() => {})
        : { name, how: signal ?? `exit code ${code}`, tail: tail.join('\n') },
    ),
    tail: () => tail.join('\n'),
    /** @param {string} probePath */
    markReady(probePath) {
      ready = true
      probeEcho = new RegExp(`^\\[wrangler:info\\] GET ${probePath} \\d`)
    },
    async stop() {
      stopRequested = true
      process.off('exit', killOnExit)
      if (!child.pid) return
      killGroup(child.pid, 'SIGTERM')
      const deadline = Date.now() + STOP_GRACE_MS
      while (isGroupAlive(child.pid) && Date.now() < deadline) {
        await sleep(50)
      }
      if (isGroupAlive(child.pid)) killGroup(child.pid, 'SIGKILL')
      await exited
    },
  }
}

/** @param {number | undefined} pid @param {NodeJS.Signals} signal */
function killGroup(pid, signal) {
  if (!pid) return
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the whole group is gone already.
  }
}

/** @param {number} pid */
function isGroupAlive(pid) {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Polls `url` until it answers and `check` accepts the response; fails early when wrangler exits
 * or `check` throws a `FatalStartError`, and with wrangler's last lines when time runs out.
 * @param {ReturnType<typeof startWrangler>} worker
 * @param {string} url
 * @param {(response: Response) => Promise<void>} check
 * @param {(line: string) => void} log
 */
export async function waitUntilReady(worker, url, check, log) {
  let exit
  worker.exited.then((result) => (exit = result))
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastProblem = 'no answer yet'
  while (Date.now() < deadline) {
    if (exit) {
      const how = exit.signal ?? `exit code ${exit.code}`
      throw new Error(
        `wrangler dev for the ${worker.name} Worker stopped (${how}) before it was ready.\n` +
          `Its last output:\n${indent(worker.tail())}`,
      )
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
      await check(response)
      worker.markReady(new URL(url).pathname)
      return
    } catch (error) {
      if (error instanceof FatalStartError) {
        // Give the Worker's own log line (the list of bad variables) a moment to arrive.
        await sleep(200)
        error.message += `\nwrangler's last output:\n${indent(worker.tail())}`
        throw error
      }
      lastProblem = error instanceof Error ? error.message : String(error)
    }
    await sleep(250)
  }
  log(`[${worker.name}] not ready: ${lastProblem}`)
  throw new Error(
    `the ${worker.name} Worker did not answer ${url} within ${READY_TIMEOUT_MS / 1000} s ` +
      `(last: ${lastProblem}).\nwrangler's last output:\n${indent(worker.tail())}`,
  )
}

class FatalStartError extends Error {}

/**
 * Accepts any health report (a database that is down is worth starting for, to see it in the
 * report); a misconfigured Worker will never get better by waiting.
 * @param {Response} response
 */
async function readHealth(response) {
  const text = await response.text()
  let body
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error(`/api/health answered ${response.status} with no JSON`)
  }
  if (body?.error?.code === 'misconfigured') {
    throw new FatalStartError(
      'the app Worker rejects its variables (.dev.vars, or the vars given to the dev runner); ' +
        '`npm run check:env` checks .dev.vars',
    )
  }
  if (typeof body?.status !== 'string') {
    throw new Error(
      `/api/health answered ${response.status}: ${text.slice(0, 200)}`,
    )
  }
}

/** @param {string} text */
function indent(text) {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => `  ${line}`)
    .join('\n')
}

/** A connection string without its password, for logs. @param {string} value */
export function redact(value) {
  try {
    const url = new URL(value)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return '(an unparseable database URL)'
  }
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
