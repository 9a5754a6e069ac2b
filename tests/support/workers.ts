import { Miniflare } from 'miniflare'
import { afterAll, beforeAll } from 'vitest'
import { createTestDatabase, type TestDatabase } from './database'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const APP_BUNDLE = path.join(ROOT, 'dist/app/app.js')
const WEBHOOKS_BUNDLE = path.join(ROOT, 'dist/webhooks/index.js')

/** The compatibility settings of a Worker, read from its wrangler.toml so tests match production. */
function compatibility(configPath: string) {
  const toml = readFileSync(path.join(ROOT, configPath), 'utf8')
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1]
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1]
  if (!date) throw new Error(`${configPath} has no compatibility_date`)
  return {
    compatibilityDate: date,
    compatibilityFlags:
      (flags ?? '').match(/"([^"]+)"/g)?.map((f) => f.slice(1, -1)) ?? [],
  }
}

/** The BACKUPS bucket's name in wrangler.toml: the name its local state is kept under. */
function backupsBucketName() {
  const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8')
  const name =
    /\[\[r2_buckets\]\]\s*binding\s*=\s*"BACKUPS"\s*bucket_name\s*=\s*"([^"]+)"/.exec(
      toml,
    )?.[1]
  if (!name) throw new Error('wrangler.toml binds no BACKUPS bucket')
  return name
}

/** The address tests pretend the app is served at (also the Origin of its own forms). */
export const BASE_URL = 'http://127.0.0.1:8787'

/**
 * A Postgres nobody listens on (loopback port 9): connections are refused at once. Its password is
 * there so tests can check that it never shows up in a response or a log line.
 */
export const UNREACHABLE_DATABASE_URL =
  'postgresql://kulti:hunter2-secret@127.0.0.1:9/kulti'

export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef'

export const TEST_OTP_SECRET = 'test-otp-secret-0123456789abcdef'

/** What session cookies are signed with in test deployments (`SESSION_SECRETS`). */
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdef'

/** What every test deployment runs with, unless a test overrides it. */
const TEST_VARS = {
  ENVIRONMENT: 'test',
  HMS_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  SESSION_SECRETS: TEST_SESSION_SECRET,
  OTP_SECRET: TEST_OTP_SECRET,
  SMS_PROVIDER: 'outbox',
}

export interface WorkerVars {
  DATABASE_URL: string
  DB_WSPROXY?: string
  [name: string]: string | undefined
}

export interface RunningWorkers {
  mf: Miniflare
  /** Where Miniflare listens on loopback, for real clients (WebSockets); requests reach the app as BASE_URL. */
  url: URL
  /** A request to the app Worker (Remix pages, JSON routes). */
  app(pathOrRequest: string, init?: RequestInit): Promise<Response>
  /** A request to the webhooks Worker. */
  webhooks(pathOrRequest: string, init?: RequestInit): Promise<Response>
  /** POSTs a body to the webhooks Worker as 100ms would: JSON, with the test secret unless `headers` override it. */
  deliverWebhook(
    body: string | ReadableStream,
    headers?: Record<string, string>,
  ): Promise<Response>
  /** Runs the app Worker's scheduled() handler as a Cron Trigger would. */
  scheduled(cron: string): Promise<{ outcome: string }>
  /** Every line both Workers logged so far (console.log/error in workerd). */
  logs(): string[]
  /** Whether an error-level line containing `text` is logged within 2 s (logs arrive asynchronously). */
  errorLogged(text: string): Promise<boolean>
  dispose(): Promise<void>
}

/**
 * Both Workers, as built by `npm run build` (the artefacts wrangler would upload), in workerd via
 * Miniflare, with in-memory Durable Object and R2 state.
 */
/**
 * A stand-in for the rate limiter being unreachable (an overloaded or failing Durable Object):
 * every RPC rejects. Only the platform can make the real object fail, so tests bind this instead.
 */
const LIMITER_OUTAGE_SCRIPTS = {
  // Every RPC fails at once.
  throws: `
import { DurableObject } from 'cloudflare:workers'
export class RateLimiter extends DurableObject {
  check() { throw new Error('Durable Object is overloaded') }
  ping() { throw new Error('Durable Object is overloaded') }
}
export default { fetch: () => new Response('limiter outage stand-in', { status: 503 }) }
`,
  // Every RPC waits for ever: an overloaded object whose queue never drains.
  hangs: `
import { DurableObject } from 'cloudflare:workers'
export class RateLimiter extends DurableObject {
  check() { return new Promise(() => {}) }
  ping() { return new Promise(() => {}) }
}
export default { fetch: () => new Response('limiter outage stand-in', { status: 503 }) }
`,
}

export interface StartOptions {
  /** Where the app is served (the URL its Worker sees); BASE_URL (plain-http localhost) by default. */
  baseUrl?: string
  /** Bind both Workers' RATE_LIMITER to an object whose every call fails (`true`/'throws') or never answers ('hangs'). */
  limiterOutage?: boolean | 'throws' | 'hangs'
  /** Keep Durable Object storage in this folder (state left by an earlier deployment); in memory otherwise. */
  durableObjectsPersist?: string
  /**
   * Keep R2 on disk in this wrangler state folder (as `wrangler dev --persist-to` would), under the
   * bucket name from wrangler.toml, so the backup scripts' `--persist-to` reads what the job wrote.
   */
  r2PersistTo?: string
}

export async function startWorkers(
  vars: WorkerVars,
  {
    limiterOutage = false,
    baseUrl = BASE_URL,
    durableObjectsPersist,
    r2PersistTo,
  }: StartOptions = {},
): Promise<RunningWorkers> {
  for (const bundle of [APP_BUNDLE, WEBHOOKS_BUNDLE]) {
    if (!existsSync(bundle))
      throw new Error(
        `${bundle} is missing: run \`npm run build\` (npm test does it for you)`,
      )
  }
  const bindings = Object.fromEntries(
    Object.entries({ ...TEST_VARS, ...vars }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  )
  const lines: string[] = []
  const mf = new Miniflare({
    // Collected so tests can assert what operators would read (and that no secret is in it).
    handleRuntimeStdio(
      stdout: NodeJS.ReadableStream,
      stderr: NodeJS.ReadableStream,
    ) {
      for (const stream of [stdout, stderr]) {
        let pending = ''
        stream.on('data', (chunk: Buffer) => {
          const parts = (pending + chunk.toString()).split('\n')
          pending = parts.pop() ?? ''
          lines.push(...parts.filter(Boolean))
        })
      }
    },
    // Requests reach the Worker with `Host: 127.0.0.1:8787`, matching their URL as a real request's
    // would (otherwise Miniflare's own port); Remix compares it with the Origin of form posts.
    upstream: baseUrl,
    ...(durableObjectsPersist ? { durableObjectsPersist } : {}),
    ...(r2PersistTo ? { r2Persist: path.join(r2PersistTo, 'v3', 'r2') } : {}),
    workers: [
      {
        name: 'app',
        // Listed explicitly: the bundle holds a dynamic import() Miniflare cannot follow (and need not).
        modules: [{ type: 'ESModule', path: APP_BUNDLE }],
        ...compatibility('wrangler.toml'),
        bindings,
        durableObjects: {
          RATE_LIMITER: limiterOutage
            ? {
                className: 'RateLimiter',
                scriptName: 'limiter-outage',
                useSQLite: true,
              }
            : { className: 'RateLimiter', useSQLite: true },
          SESSION_CHAT: { className: 'SessionChat', useSQLite: true },
        },
        r2Buckets: { BACKUPS: backupsBucketName() },
      },
      {
        name: 'webhooks',
        modules: [{ type: 'ESModule', path: WEBHOOKS_BUNDLE }],
        ...compatibility('workers/webhooks/wrangler.toml'),
        bindings,
        durableObjects: {
          RATE_LIMITER: {
            className: 'RateLimiter',
            scriptName: limiterOutage ? 'limiter-outage' : 'app',
            useSQLite: true,
          },
        },
        r2Buckets: ['BACKUPS'],
      },
      ...(limiterOutage
        ? [
            {
              name: 'limiter-outage',
              modules: true,
              script:
                LIMITER_OUTAGE_SCRIPTS[
                  limiterOutage === 'hangs' ? 'hangs' : 'throws'
                ],
              ...compatibility('wrangler.toml'),
              durableObjects: {
                RATE_LIMITER: { className: 'RateLimiter', useSQLite: true },
              },
            },
          ]
        : []),
    ],
  })
  const url = await mf.ready
  const appWorker = await mf.getWorker('app')
  const webhooksWorker = await mf.getWorker('webhooks')
  // A path is appended to the origin, not resolved against it: `//x` is a path a client may send
  // (the fuzzer does), where URL resolution would read it as a host.
  const toUrl = (p: string) =>
    p.startsWith('/')
      ? new URL(new URL(baseUrl).origin + p).toString()
      : new URL(p, baseUrl).toString()
  return {
    mf,
    url,
    // dispatchFetch enters through Miniflare's entry worker like a real request does; a fetch on
    // getWorker()'s proxy would refuse foreign Origin headers itself, before our CSRF check runs.
    app: (p, init) =>
      mf.dispatchFetch(toUrl(p), init as never) as unknown as Promise<Response>,
    webhooks: (p, init) =>
      webhooksWorker.fetch(
        toUrl(p),
        init as never,
      ) as unknown as Promise<Response>,
    deliverWebhook: (body, headers = {}) =>
      webhooksWorker.fetch(toUrl('/webhooks/100ms'), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-kulti-webhook-secret': TEST_WEBHOOK_SECRET,
          ...headers,
        },
        body,
        ...(typeof body === 'string' ? {} : { duplex: 'half' }),
      } as never) as unknown as Promise<Response>,
    logs: () => [...lines],
    async errorLogged(text) {
      const deadline = Date.now() + 2_000
      for (;;) {
        const found = lines.some(
          (line) => line.includes('"level":"error"') && line.includes(text),
        )
        if (found || Date.now() > deadline) return found
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    scheduled: (cron) =>
      appWorker.scheduled({ cron }) as Promise<{ outcome: string }>,
    dispose: () => mf.dispose(),
  }
}

export interface WorkersOnDatabase {
  readonly database: TestDatabase
  readonly workers: RunningWorkers
}

/**
 * Registers vitest hooks that give the test file its own migrated database and both Workers on it.
 * Read `.database` and `.workers` inside tests (they exist once beforeAll ran). `vars` may be a
 * function, called in beforeAll, for values that exist only then (a fake's URL).
 */
export function useWorkersOnTestDatabase(
  vars:
    | Record<string, string | undefined>
    | (() => Record<string, string | undefined>) = {},
): WorkersOnDatabase {
  const state: { database?: TestDatabase; workers?: RunningWorkers } = {}
  beforeAll(async () => {
    state.database = await createTestDatabase()
    state.workers = await startWorkers({
      DATABASE_URL: state.database.databaseUrl,
      DB_WSPROXY: state.database.wsProxy,
      ...(typeof vars === 'function' ? vars() : vars),
    })
  })
  afterAll(async () => {
    await state.workers?.dispose()
    await state.database?.close()
  })
  return {
    get database() {
      if (!state.database)
        throw new Error('the test database exists only once beforeAll ran')
      return state.database
    },
    get workers() {
      if (!state.workers)
        throw new Error('the Workers exist only once beforeAll ran')
      return state.workers
    },
  }
}
