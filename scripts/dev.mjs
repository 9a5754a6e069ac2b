// `npm run dev`: the whole app on a machine with only Node. Builds the Remix app, starts the
// database (embedded PGlite unless DATABASE_URL is set), the relay, the fake 100ms and both Workers, then keeps
// `remix watch` rebuilding (wrangler dev reloads on each build). Ctrl-C stops every child.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { checkEnvFile, parseVarsFile } from './check-env.mjs'
import {
  DEV_VARS,
  DEV_VARS_EXAMPLE,
  ensureDevVars,
  redact,
  startDevStack,
} from './lib/dev-stack.mjs'
import { run } from './lib/run.mjs'
import { REMIX_BIN, ROOT } from './lib/wrangler-env.mjs'

const started = Date.now()
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`

/** @type {Promise<import('./lib/dev-stack.mjs').DevStack> | undefined} */
let starting
/** @type {import('node:child_process').ChildProcess | undefined} */
let watcher
let shuttingDown = false

async function shutdown(code) {
  if (shuttingDown) return
  shuttingDown = true
  if (watcher?.pid && watcher.exitCode === null) {
    // remix watch runs in its own process group (detached) so esbuild's service dies with it.
    try {
      process.kill(-watcher.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  // A signal during the start waits for it to finish (or fail, which cleans up by itself), so
  // PGlite is never cut off mid-migration.
  const stack = await starting?.catch(() => undefined)
  await stack?.stop()
  process.exit(code)
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, () => {
    // Ctrl-C reaches npm and this process both; one shutdown is enough.
    if (shuttingDown) return
    console.log(`\n${signal}: stopping…`)
    void shutdown(0)
  })
}

async function variablesOnlyInExample() {
  const read = async (file) => parseVarsFile(await readFile(file, 'utf8')).vars
  const [mine, example] = await Promise.all([
    read(DEV_VARS),
    read(DEV_VARS_EXAMPLE),
  ])
  return Object.keys(example).filter((key) => !(key in mine))
}

// remix watch's own start-up notices; they say nothing a developer acts on.
const REMIX_NOISE = [/^\s*$/, /CJS build of Vite's Node API is deprecated/]

function startRemixWatch() {
  const child = spawn(REMIX_BIN, ['watch'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (raw) => {
      // eslint-disable-next-line no-control-regex
      const line = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd()
      if (!REMIX_NOISE.some((pattern) => pattern.test(line))) {
        console.log(`[remix] ${line}`)
      }
    })
  }
  child.on('exit', (code, signal) => {
    if (shuttingDown) return
    console.error(
      `[remix] remix watch stopped (${signal ?? `exit code ${code}`}); stopping everything.`,
    )
    void shutdown(1)
  })
  // Last resort if this process dies without shutdown(): no orphaned watcher.
  process.once('exit', () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  })
  return child
}

/** @param {import('./lib/dev-stack.mjs').DevStack} s */
function printBanner(s) {
  const devVars = readFileSync(DEV_VARS, 'utf8')
  const usesOutbox = /^\s*SMS_PROVIDER\s*=\s*outbox\s*$/m.test(devVars)
  // The nightly job's schedule, from wrangler.toml, so the hint runs the real one.
  const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8')
  const cron = /^crons\s*=\s*\[\s*"([^"]+)"/m.exec(toml)?.[1] ?? '0 3 * * *'
  const relative = (p) => path.relative(ROOT, p) || '.'
  const database = s.embedded
    ? `embedded PGlite (${s.dataDir ? `data in ${relative(s.dataDir)}/` : 'in memory'}; set DATABASE_URL to use your own Postgres)`
    : redact(s.databaseUrl)
  console.log(
    [
      '',
      `Kulti is running (ready in ${seconds()})`,
      '',
      `  App        ${s.appUrl}`,
      `  Health     ${s.appUrl}/api/health`,
      `  Webhooks   POST ${s.webhooksUrl}/webhooks/100ms  (header x-kulti-webhook-secret: HMS_WEBHOOK_SECRET from .dev.vars)`,
      videoLine(s),
      ...(usesOutbox
        ? [
            `  SMS codes  ${s.appUrl}/dev/outbox  (SMS_PROVIDER=outbox: texts stay local)`,
          ]
        : []),
      `  Cron jobs  curl '${s.appUrl}/__scheduled?cron=${encodeURIComponent(cron)}'`,
      s.usesFakeSentry
        ? `  Errors     ${s.sentryUrl}  (fake Sentry: every event and check-in the Workers send, scrubbed as in production)`
        : `  Errors     SENTRY_DSN from .dev.vars (the fake Sentry at ${s.sentryUrl} is idle)`,
      '',
      `  Database   ${database}`,
      `  DO and R2  ${relative(s.persistTo)}/ (wrangler local state)`,
      `  Secrets    .dev.vars`,
      '',
      '  remix watch rebuilds on save; wrangler reloads both Workers. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  )
}

/**
 * Where video goes: the fake 100ms (and how to bring viewers into a room), or the real one.
 * @param {import('./lib/dev-stack.mjs').DevStack} s
 */
function videoLine(s) {
  if (!s.usesFakeHms) {
    return `  Video      HMS_API_BASE from .dev.vars (the fake 100ms at ${s.hmsUrl} is idle)`
  }
  // hms:simulate looks at 127.0.0.1:8790 unless told otherwise.
  const simulate = s.hmsUrl.endsWith(':8790')
    ? 'npm run hms:simulate -- <room code>'
    : `HMS_API_BASE=${s.hmsUrl} npm run hms:simulate -- <room code>`
  return `  Fake 100ms ${s.hmsUrl}  (rooms, peers and webhooks in memory; ${simulate})`
}

// npm runs this through `sh -c`; a SIGTERM sent to npm alone ends that shell and leaves this
// process orphaned, with nothing left to stop it or its Workers: stop when the parent changes.
function stopWhenOrphaned() {
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid === parent || shuttingDown) return
    console.log('\nnpm run dev lost its parent process: stopping…')
    void shutdown(0)
  }, 1_000).unref()
}

async function main() {
  stopWhenOrphaned()
  try {
    console.log('Building the Remix app…')
    await run(REMIX_BIN, ['build'], { quiet: true })

    if (ensureDevVars()) {
      console.log(
        '  (edit .dev.vars for your own secrets; npm run check:env checks it)',
      )
    }
    const env = await checkEnvFile(DEV_VARS)
    if (env.problems.length) {
      const list = env.problems.map((p) => `  - ${p}`).join('\n')
      const missing = await variablesOnlyInExample()
      // The usual cause: the app gained a variable since this .dev.vars was copied.
      const hint = missing.length
        ? `\n.dev.vars.example has variables your .dev.vars lacks: ${missing.join(', ')}; copy them over.`
        : '\nSee .dev.vars.example for what each variable means.'
      throw new Error(`.dev.vars has problems:\n${list}${hint}`)
    }
    for (const warning of env.warnings)
      console.log(`warning: .dev.vars: ${warning}`)

    console.log('Starting the database, the fake 100ms and both Workers…')
    starting = startDevStack({
      databaseUrl: process.env.DATABASE_URL || undefined,
    })
    const stack = await starting
    // After a signal during the start, shutdown() is already stopping the stack.
    if (!shuttingDown) {
      watcher = startRemixWatch()
      printBanner(stack)

      const crash = await stack.crashed
      console.error(
        `\nwrangler dev for the ${crash.name} Worker stopped (${crash.how}). Its last output:\n${crash.tail}\nStopping everything.`,
      )
      await shutdown(1)
    }
  } catch (error) {
    if (!shuttingDown) {
      console.error(
        `\nnpm run dev failed: ${error instanceof Error ? error.message : error}`,
      )
      await shutdown(1)
    }
  }
}

// Last, so every constant above is initialised before anything runs.
await main()
