import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { RATE_LIMIT_POLICY_NAMES } from '../../app/services/rate-limit-policies'
import { cookieFrom, latestCode, requestCode, verify } from '../support/auth'
import { connectChat, type Frame } from '../support/chat'
import { useFakeHms } from '../support/fake-hms'
import {
  appRequests,
  bodyText,
  chatFrames,
  fillIn,
  placeholders,
  webhookRequests,
  type FuzzRequest,
} from '../support/fuzz'
import { appEndpoints } from '../support/routes'
import { useWorkersOnTestDatabase } from '../support/workers'
import { createWorld, type World } from '../support/world'

// Hostile input at every endpoint of both Workers (SPEC §7): malformed, oversized, wrong-typed and
// hostile bodies, paths and queries. Whatever arrives: never a 5xx, never a stack trace, SQL or an
// internal path in the answer, and a 4xx writes nothing (the row count of every table is the same
// before and after). Each endpoint gets FUZZ_MS milliseconds (default 800) or FUZZ_RUNS runs (default 30),
// whichever ends first; a failure prints fast-check's seed and the shrunk request, which goes into
// fuzz-regressions.json to be replayed on every run.
const fake = useFakeHms()

// Every limit out of the way: the fuzzer is after the code behind them.
const NO_LIMITS = Object.fromEntries(
  RATE_LIMIT_POLICY_NAMES.map((name) => [
    name,
    { limit: 1_000_000, periodSeconds: 60 },
  ]),
)
const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  HLS_VIEWER_THRESHOLD: '1000',
  RATE_LIMIT_OVERRIDES: JSON.stringify(NO_LIMITS),
}))

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 800)
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 30)

// What must never reach a client: the driver's and Postgres's words, stack frames, our files.
const LEAKS: Array<[string, RegExp]> = [
  ['a stack frame', /^\s*at .+[:(]\d+:\d+\)?$/m],
  ['a stack frame', /\bat (?:async )?[\w$.<>]+ \((?:file|node|\/)[^)]*\)/],
  [
    'a database error',
    /syntax error at or near|invalid input syntax for|violates \w+ constraint|duplicate key value|relation "\w+" does not exist|column "\w+" does not exist|unterminated quoted|invalid byte sequence|unsupported Unicode escape/i,
  ],
  ['a query', /DrizzleQueryError|Failed query:|NeonDbError|PostgresError/],
  [
    'SQL',
    /\bselect\s+(?:\*|[\w".]+(?:\s*,\s*[\w".]+)*)\s+from\s+"?\w+|\binsert\s+into\s+"?\w+|\bupdate\s+"?\w+"?\s+set\b|\bdelete\s+from\s+"?\w+/i,
  ],
  [
    'an internal path',
    /\/work\/|node_modules\/|file:\/\/|\.tsx?:\d+|dist\/app|build\/index\.js/,
  ],
  ['a secret', /test-(?:webhook|otp|session)-secret/],
]

interface Sent {
  request: FuzzRequest
  url: string
  text: string
}

let world: World | undefined
let tables: string[] | undefined

async function rowCounts(): Promise<Record<string, number>> {
  tables ??= (
    await stack.database.query<{ tablename: string }>(
      "select tablename from pg_tables where schemaname = 'public' order by tablename",
    )
  ).map((row) => row.tablename)
  const rows = await stack.database.query<{ t: string; n: number }>(
    tables
      .map((t) => `select '${t}' as t, count(*)::int as n from "${t}"`)
      .join(' union all '),
  )
  return Object.fromEntries(rows.map((row) => [row.t, row.n]))
}

/** The host signs in again if a fuzzed request signed them out (a sign-out, "everywhere"). */
async function refreshHost(w: World): Promise<void> {
  const me = await w.host.get('/api/me')
  if (me.status === 200) return
  await requestCode(stack.workers, w.host.phone, w.host.ip)
  const code = await latestCode(stack.workers, w.host.phone)
  const signedIn = await verify(stack.workers, w.host.phone, code, w.host.ip)
  expect(signedIn.status).toBe(200)
  w.host.cookie = cookieFrom(signedIn)
}

/** A live session for the world again, if a fuzzed request ended it. */
async function liveWorld(): Promise<World> {
  world ??= await createWorld(stack.workers)
  await refreshHost(world)
  const session = await world.host.get(`/api/sessions/${world.session.id}`)
  const { session: found } = (await session.json()) as {
    session?: { status: string }
  }
  if (found?.status !== 'live') world = await createWorld(stack.workers, world)
  return world
}

async function send(w: World, request: FuzzRequest): Promise<Response> {
  const values = placeholders(w)
  const who = request.persona === 'anonymous' ? null : w[request.persona]
  const headers = { ...request.headers }
  if (headers.Origin === '') delete headers.Origin
  if (who) headers.Cookie = who.cookie
  headers['CF-Connecting-IP'] = who?.ip ?? '203.0.113.77'
  const body =
    request.body === undefined
      ? undefined
      : Array.isArray(request.body)
        ? new Uint8Array(request.body)
        : fillIn(bodyText(request.body), values)
  const init = { method: request.method, headers, body, redirect: 'manual' }
  const path = fillIn(request.path, values)
  return request.worker === 'app'
    ? stack.workers.app(path, init as RequestInit)
    : stack.workers.webhooks(path, init as RequestInit)
}

/** Sends one request and checks everything the suite promises about its answer. */
// Past 4× the app Worker's body limit the Worker stops reading and the connection is cut, by design
// (app/utils/http.server.ts).
const CUT_OFF_BYTES = 4 * 64 * 1024
// Refusals decided before the body is read (no such route or method, a foreign Origin, a wrong
// webhook secret and the limit on those, not JSON): answered at once, so a local client still sending
// a large body sees its connection reset.
const BEFORE_THE_BODY = [401, 403, 404, 405, 415, 429]

/** The answer, or, when the connection was cut while the body was still being sent, why that is right. */
async function answer(
  w: World,
  request: FuzzRequest,
): Promise<Response | null> {
  try {
    return await send(w, request)
  } catch (error) {
    const size = Array.isArray(request.body)
      ? request.body.length
      : Buffer.byteLength(bodyText(request.body ?? ''))
    if (size > CUT_OFF_BYTES) return null
    // The same request without a body shows what the Worker answered without reading it.
    const bare = await send(w, { ...request, body: '' })
    if (!BEFORE_THE_BODY.includes(bare.status)) throw error
    return bare
  }
}

async function check(request: FuzzRequest): Promise<void> {
  const w = world!
  const before = await rowCounts()
  const response = await answer(w, request)
  if (!response) return
  const text = await response.text()
  const sent = JSON.stringify(request) + JSON.stringify(placeholders(w))
  const what = `${request.method} ${request.path} → ${response.status}`
  expect(response.status, `${what}: ${text.slice(0, 500)}`).toBeLessThan(500)
  for (const [name, pattern] of LEAKS) {
    // A page may show back what was typed into it: only what the request did not carry counts.
    if (pattern.test(text) && !pattern.test(sent))
      expect.fail(`${what} answers with ${name}: ${text.match(pattern)?.[0]}`)
  }
  if (response.status >= 400) {
    expect(await rowCounts(), `${what} wrote something`).toEqual(before)
    const isJson = (response.headers.get('Content-Type') ?? '').includes(
      'application/json',
    )
    // `?_data=` makes Remix answer a data request itself (403 for a route id that does not exist):
    // no detail, but not our error shape either.
    const remixData = new URL(`http://x${request.path}`).searchParams.has(
      '_data',
    )
    if (isJson && request.method !== 'HEAD' && !remixData) {
      const body = JSON.parse(text) as { error?: { code?: unknown } }
      expect(typeof body.error?.code, `${what}: ${text}`).toBe('string')
    }
  }
}

const REGRESSIONS = JSON.parse(
  readFileSync(new URL('./fuzz-regressions.json', import.meta.url), 'utf8'),
) as Array<{ found: string; request: FuzzRequest }>

describe('fuzzing both Workers', () => {
  const endpoints = appEndpoints()

  describe('regressions: every case the fuzzer ever failed on', () => {
    for (const { found, request } of REGRESSIONS) {
      test(found, async () => {
        await liveWorld()
        await check(request)
      })
    }
  })

  for (const endpoint of endpoints) {
    test(`app Worker: ${endpoint.key}`, async () => {
      const w = await liveWorld()
      await fc.assert(
        fc.asyncProperty(
          appRequests(endpoint, { username: w.host.username }),
          check,
        ),
        { numRuns: FUZZ_RUNS, interruptAfterTimeLimit: FUZZ_MS },
      )
    })
  }

  test('webhooks Worker: POST /webhooks/100ms', async () => {
    await liveWorld()
    await fc.assert(fc.asyncProperty(webhookRequests(), check), {
      numRuns: FUZZ_RUNS * 2,
      interruptAfterTimeLimit: FUZZ_MS * 2,
    })
  })

  test('chat frames: every answer is a frame, the socket survives, nothing leaks', async () => {
    const w = await liveWorld()
    const socket = await connectChat(stack.workers, w.participant, w.session.id)
    try {
      const frames = fc.sample(chatFrames, 60)
      for (const frame of frames) {
        if (typeof frame === 'string') socket.sendRaw(frame)
        else socket.sendRaw(Buffer.from(frame))
      }
      // Still open and answering: a resume brings an answer after everything sent before it.
      socket.send({ type: 'resume', after: 0 })
      socket.send({ type: 'question', id: 999_999_999 })
      await socket.waitFor(
        (f: Frame) => f.type === 'error' && f.code === 'message_not_found',
        'the answer to the last frame',
      )
      for (const frame of socket.frames) {
        const text = JSON.stringify(frame)
        for (const [name, pattern] of LEAKS)
          if (name !== 'SQL' && pattern.test(text))
            expect.fail(`a chat frame carries ${name}: ${text}`)
        if (frame.type === 'error') expect(typeof frame.code).toBe('string')
      }
    } finally {
      await socket.close()
    }
  })
})
