// Benchmark (not a test): the archive of a 10,000-message session chat (issue 10: "written in one
// transaction in under 2 s here"). Everything is real: a fresh migrated database, the fake 100ms,
// the built Workers in Miniflare, and the messages sent over real WebSockets by 2,000 users. What
// it times is the whole archive as the end of a session runs it (archiveSessionChat: close the
// object, export over RPC, one transaction with two INSERT … SELECT FROM json_to_recordset
// statements, clear the object), read from the `chat archived` log line, and the end request
// around it.
//
// Run: `npm run build`, then `TEST_DATABASE_URL=postgresql://… npm run bench:chat` (without
// TEST_DATABASE_URL: embedded PGlite).
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { sessionCookieJar } from '../app/utils/session-cookie.server'
import { startFakeHms } from '../tests/fakes/hms.mjs'
import { signUp } from '../tests/support/auth'
import {
  connectChat,
  type Frame,
  type MessageFrame,
} from '../tests/support/chat'
import { createTestDatabase } from '../tests/support/database'
import {
  BASE_URL,
  startWorkers,
  TEST_SESSION_SECRET,
  type RunningWorkers,
} from '../tests/support/workers'

const MESSAGES = 10_000
// The object allows 5 messages per user in 10 s, so each user sends exactly that many.
const PER_USER = 5
const USERS = MESSAGES / PER_USER
// Each upgrade is a few database round trips (this machine's PostgreSQL takes 100 connections),
// and every connected socket receives every broadcast plus 200 messages of history on connect.
const CONCURRENCY = 20
const TARGET_MS = 2_000
const RESULTS_PATH = fileURLToPath(
  new URL('./results-chat.json', import.meta.url),
)

// What people send while someone builds live: short remarks, inline code, code blocks, links,
// and now and then a long one.
const SAMPLES = [
  'you have a typo on line 12',
  'try `npm run build` before you deploy',
  'what does `useEffect` do with an empty array?',
  '```ts\nconst total = items.reduce((sum, item) => sum + item.price, 0)\n```',
  'the docs are at https://developer.mozilla.org/en-US/docs/Web/API/WebSocket',
  'this is great, thanks for streaming!',
  'could you zoom in a bit? the font is tiny on my screen',
  'a longer question about the design. '.repeat(10).trim(),
]

const messageText = (n: number) => `#${n} ${SAMPLES[n % SAMPLES.length]}`

interface BenchUser {
  id: string
  cookie: string
}

/** 256 random bits, base64url, as createAuthSession makes a session id. */
const newSessionId = () => randomBytes(32).toString('base64url')

/**
 * The chat's senders, written straight into the database (signing 2,000 people up through the
 * API would be the rate limiters' benchmark): each with a completed profile and a live session
 * row keyed by the SHA-256 hex of the id, and the cookie the app itself would set for that id.
 */
async function seedUsers(
  query: (text: string, params?: unknown[]) => Promise<unknown[]>,
  count: number,
): Promise<BenchUser[]> {
  const run = randomBytes(3).toString('hex')
  const ids = Array.from({ length: count }, () => randomUUID())
  const sessionIds = ids.map(() => newSessionId())
  await query(
    `insert into users (id, username, display_name)
     select id, 'bench' || $2::text || '_' || n, 'Bench viewer ' || n
     from unnest($1::uuid[]) with ordinality as u(id, n)`,
    [ids, run],
  )
  await query(
    `insert into auth_sessions (id, user_id, expires_at)
     select id, user_id, now() + interval '30 days'
     from unnest($1::text[], $2::uuid[]) as s(id, user_id)`,
    [
      sessionIds.map((id) => createHash('sha256').update(id).digest('hex')),
      ids,
    ],
  )
  const jar = sessionCookieJar(new Request(BASE_URL), [TEST_SESSION_SECRET])
  return Promise.all(
    ids.map(async (id, i) => ({
      id,
      cookie: (await jar.commit(sessionIds[i]!)).split(';')[0]!,
    })),
  )
}

const isOwnMessage = (userId: string, frame: Frame) =>
  frame.type === 'message' && (frame as MessageFrame).message.userId === userId

/** One user: connect, send their messages, wait until all of them came back, close. */
async function chatAs(
  workers: RunningWorkers,
  sessionId: string,
  user: BenchUser,
  texts: string[],
) {
  const chat = await connectChat(workers, null, sessionId, {
    cookie: user.cookie,
  })
  try {
    for (const text of texts) chat.send({ type: 'send', text })
    const own = () => chat.frames.filter((f) => isOwnMessage(user.id, f)).length
    const frame = await chat.waitFor(
      (f) =>
        f.type === 'error' ||
        (isOwnMessage(user.id, f) && own() >= texts.length),
      `the messages of ${user.id}`,
    )
    if (frame.type === 'error')
      throw new Error(`the chat refused a message: ${JSON.stringify(frame)}`)
    if (own() !== texts.length)
      throw new Error(`${user.id} got ${own()} of its ${texts.length} messages`)
  } finally {
    await chat.close()
  }
}

/** Sends every user's messages, CONCURRENCY users at a time, printing progress. */
async function sendAll(
  workers: RunningWorkers,
  sessionId: string,
  users: BenchUser[],
) {
  const started = performance.now()
  let next = 0
  let done = 0
  const lane = async () => {
    for (let i = next++; i < users.length; i = next++) {
      const texts = Array.from({ length: PER_USER }, (_, k) =>
        messageText(i * PER_USER + k),
      )
      await chatAs(workers, sessionId, users[i]!, texts)
      done += 1
      if ((done * PER_USER) % 1_000 === 0) {
        const seconds = (performance.now() - started) / 1000
        console.log(
          `  ${(done * PER_USER).toLocaleString('en')} / ${MESSAGES.toLocaleString('en')} messages ` +
            `(${seconds.toFixed(1)} s, ${Math.round((done * PER_USER) / seconds)} msg/s)`,
        )
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  return performance.now() - started
}

interface ArchivedLine {
  sessionId: string
  messages: number
  actions: number
  durationMs: number
}

/** The `chat archived` line of this session (logs arrive asynchronously), or why there is none. */
async function archiveLine(
  workers: RunningWorkers,
  sessionId: string,
): Promise<ArchivedLine> {
  const deadline = Date.now() + 5_000
  for (;;) {
    for (const line of workers.logs()) {
      if (!line.includes(sessionId)) continue
      if (line.includes('"msg":"chat archived"'))
        return JSON.parse(line.slice(line.indexOf('{'))) as ArchivedLine
      if (line.includes('"msg":"chat archive deferred'))
        throw new Error(`the archive failed: ${line}`)
    }
    if (Date.now() > deadline)
      throw new Error('no "chat archived" line was logged for the session')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function printTable(rows: Array<[string, string]>) {
  const width = Math.max(...rows.map(([name]) => name.length))
  for (const [name, value] of rows)
    console.log(`  ${name.padEnd(width)}  ${value.padStart(10)}`)
}

async function main(): Promise<number> {
  const onPostgres = Boolean(process.env.TEST_DATABASE_URL)
  const databaseKind = onPostgres
    ? 'PostgreSQL (TEST_DATABASE_URL)'
    : 'embedded PGlite'
  console.log(
    `Chat archive benchmark: ${MESSAGES.toLocaleString('en')} messages from ` +
      `${USERS.toLocaleString('en')} users, ${databaseKind}`,
  )
  const database = await createTestDatabase()
  const hms = await startFakeHms()
  let workers: RunningWorkers | undefined
  try {
    workers = await startWorkers({
      DATABASE_URL: database.databaseUrl,
      DB_WSPROXY: database.wsProxy,
      HMS_API_BASE: hms.url,
      HMS_ACCESS_KEY: hms.accessKey,
      HMS_SECRET: hms.secret,
      HMS_TEMPLATE_ID: hms.templateId,
      RATE_LIMIT_OVERRIDES: JSON.stringify({
        'session-create': { limit: 1000, periodSeconds: 3600 },
        mutation: { limit: 10_000, periodSeconds: 60 },
      }),
    })
    const host = await signUp(workers, {
      ip: '198.18.0.1',
      profile: {
        username: `benchhost${Date.now() % 1e7}`,
        displayName: 'Bench host',
      },
    })
    const created = await host.send('POST', '/api/sessions', {
      title: 'Chat archive benchmark',
      isPublic: true,
    })
    if (created.status !== 201)
      throw new Error(
        `creating the session failed: ${created.status} ${await created.text()}`,
      )
    const { session } = (await created.json()) as { session: { id: string } }

    const users = await seedUsers(database.query, USERS)
    console.log(
      `Sending through WebSockets, ${CONCURRENCY} users at a time (connect, ${PER_USER} messages, wait for them, close):`,
    )
    const sendMs = await sendAll(workers, session.id, users)

    const started = performance.now()
    const ended = await host.send('POST', `/api/sessions/${session.id}/end`)
    const endRequestMs = performance.now() - started
    if (ended.status !== 200)
      throw new Error(
        `ending the session failed: ${ended.status} ${await ended.text()}`,
      )
    const archived = await archiveLine(workers, session.id)
    const [counted] = await database.query<{ count: string }>(
      'select count(*) from chat_messages where session_id = $1',
      [session.id],
    )
    const rows = Number(counted?.count ?? 0)

    const complete = archived.messages === MESSAGES && rows === MESSAGES
    const targetHeld = archived.durationMs < TARGET_MS
    const averageChars = Math.round(
      Array.from({ length: MESSAGES }, (_, n) => messageText(n).length).reduce(
        (sum, length) => sum + length,
        0,
      ) / MESSAGES,
    )
    console.log(`\nResults on ${databaseKind}:`)
    printTable([
      ['messages archived', archived.messages.toLocaleString('en')],
      ['archive durationMs', String(archived.durationMs)],
      ['end request ms', String(Math.round(endRequestMs))],
      ['chat_messages rows', rows.toLocaleString('en')],
    ])
    console.log(
      `\n  (sending took ${(sendMs / 1000).toFixed(1)} s; messages average ${averageChars} characters)`,
    )
    writeFileSync(
      RESULTS_PATH,
      JSON.stringify(
        {
          benchmark: 'chat-archive',
          at: new Date().toISOString(),
          database: onPostgres ? 'postgresql' : 'pglite',
          machine: { cpus: os.cpus().length, node: process.version },
          users: USERS,
          messagesSent: MESSAGES,
          averageChars,
          sendMs: Math.round(sendMs),
          archive: {
            messages: archived.messages,
            actions: archived.actions,
            durationMs: archived.durationMs,
          },
          endRequestMs: Math.round(endRequestMs),
          rows,
          complete,
          targetMs: TARGET_MS,
          targetHeld,
        },
        null,
        2,
      ) + '\n',
    )
    console.log(`  written to ${RESULTS_PATH}`)
    if (!complete) {
      console.error(
        `\nFAILED: the archive is incomplete (${archived.messages} exported, ${rows} rows; expected ${MESSAGES}).`,
      )
      return 1
    }
    console.log(
      targetHeld
        ? `\nTarget held: the archive took ${archived.durationMs} ms (< ${TARGET_MS} ms).`
        : `\nTarget NOT held: the archive took ${archived.durationMs} ms (target < ${TARGET_MS} ms).`,
    )
    return 0
  } finally {
    await workers?.dispose()
    await hms.close()
    await database.close()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
