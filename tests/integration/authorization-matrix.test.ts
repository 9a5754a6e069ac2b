import { describe, expect, test } from 'vitest'
import { ClientFrame } from '../../app/models/chat-rules'
import { signUp, uniquePhone } from '../support/auth'
import {
  connectChat,
  refusedStatus,
  type ChatClient,
  type Frame,
  type MessageFrame,
} from '../support/chat'
import { useFakeHms } from '../support/fake-hms'
import { appEndpoints, type Endpoint } from '../support/routes'
import { runNpmScript } from '../support/scripts'
import { useWorkersOnTestDatabase } from '../support/workers'
import {
  callAs,
  createWorld,
  pathIn,
  PERSONAS,
  type Call,
  type Person,
  type Persona,
  type World,
} from '../support/world'

// Who may do what, for every endpoint and page action of the app Worker (SPEC §6), against the
// built Workers on PostgreSQL. The rows are checked against the route list read from app/routes/
// at test time: a route, method or form intent without a row fails, and so does a row for one that
// no longer exists. Each row runs its callers from the least to the most privileged, so a refused
// call must leave the world as the next one finds it.
const fake = useFakeHms()

const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  HLS_VIEWER_THRESHOLD: '1000',
  // The world is rebuilt for destructive rows; only the limits that would stop that are raised.
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'session-create': { limit: 1000, periodSeconds: 3600 },
    'recording-control': { limit: 1000, periodSeconds: 3600 },
    mutation: { limit: 10_000, periodSeconds: 60 },
  }),
}))

/** A status, or a status and where it redirects (`*` at the end: any continuation). */
type Expect = number | `${number} ${string}`
type Expectations = Record<Persona, Expect>

interface Row {
  expect: Expectations
  /** The request's JSON body or form, for this caller. */
  json?: (w: World, me: Person | null) => unknown
  form?: (w: World, me: Person | null) => Record<string, string>
  /** Headers of the request (they override the JSON content type). */
  headers?: Record<string, string>
  query?: string
  /**
   * Needs a session of its own (it ends the session or changes its recordings), or people of their
   * own too (it signs out or deletes an account).
   */
  fresh?: 'session' | 'people'
  /** Runs on that world before the callers. */
  prepare?: (w: World) => Promise<void>
  /** A WebSocket upgrade (101 when admitted) instead of a plain request. */
  websocket?: true
}

const LOGIN = '302 /login?redirectTo=*'

const everyone = (outcome: Expect): Expectations => ({
  anonymous: outcome,
  stranger: outcome,
  participant: outcome,
  presenter: outcome,
  host: outcome,
})
/** Any signed-in caller; anonymous gets `anonymous` (401 on the JSON API, the login page on pages). */
const signedIn = (outcome: Expect, anonymous: Expect = 401): Expectations => ({
  ...everyone(outcome),
  anonymous,
})
/** Rights in the session: a stranger, its participants (viewer and presenter), its host. */
const inSession = (
  stranger: Expect,
  member: Expect,
  host: Expect,
  anonymous: Expect = 401,
): Expectations => ({
  anonymous,
  stranger,
  participant: member,
  presenter: member,
  host,
})

const key = () => crypto.randomUUID()
const targetOf = (w: World) => ({ userId: w.target.userId })

async function startRecording(w: World) {
  const response = await w.host.send('POST', '/api/hms/start-recording', {
    sessionId: w.session.id,
  })
  expect(response.status).toBe(201)
}

async function endSession(w: World) {
  const response = await w.host.send(
    'POST',
    `/api/sessions/${w.session.id}/end`,
    {},
  )
  expect(response.status).toBe(200)
}

const MATRIX: Record<string, Row> = {
  // ---- pages -------------------------------------------------------------------------------------
  'GET /': { expect: everyone(200) },
  'GET /credits': { expect: signedIn(200, LOGIN) },
  'GET /dashboard': { expect: signedIn(200, LOGIN) },
  'GET /dev/outbox': { expect: everyone(200) },
  'GET /login': { expect: { ...signedIn('302 /dashboard'), anonymous: 200 } },
  'GET /logout': { expect: everyone('302 /') },
  'GET /recordings': { expect: signedIn(200, LOGIN) },
  // The room code in the address is the invitation: anyone signed in who has it may enter.
  'GET /s/:roomCode': { expect: signedIn(200, LOGIN) },
  'GET /settings': { expect: signedIn(200, LOGIN) },
  'GET /u/:username': { expect: everyone(200) },
  'GET /welcome': { expect: signedIn('302 /dashboard', LOGIN) },
  // Any other address: the plain 404 page, for everyone.
  'GET /*': { expect: everyone(404) },
  // Operators only (users.operator, `npm run ops:grant`); for everyone else the same 404 as an
  // address that does not exist. The operator's 200 is the test after the matrix.
  'GET /ops': { expect: everyone(404) },

  // ---- page actions ------------------------------------------------------------------------------
  'POST /dashboard': {
    form: () => ({ title: 'From the form', maxPresenters: '4' }),
    expect: signedIn('302 /s/*', LOGIN),
  },
  // Signing in is for anyone; someone already signed in is sent on to the dashboard.
  'POST /login [send]': {
    form: () => ({ intent: 'send', phone: uniquePhone() }),
    expect: { ...signedIn('302 /dashboard'), anonymous: 200 },
  },
  'POST /login [resend]': {
    form: () => ({ intent: 'resend', phone: uniquePhone() }),
    expect: { ...signedIn('302 /dashboard'), anonymous: 200 },
  },
  'POST /login [verify]': {
    form: () => ({ intent: 'verify', phone: uniquePhone(), code: '123456' }),
    expect: { ...signedIn('302 /dashboard'), anonymous: 400 },
  },
  'POST /logout': {
    fresh: 'people',
    form: () => ({}),
    expect: everyone('302 /'),
  },
  'POST /recordings [delete]': {
    fresh: 'session',
    form: (w) => ({ intent: 'delete', id: w.recordingId }),
    expect: inSession(404, 403, '302 /recordings?*', LOGIN),
  },
  'POST /s/:roomCode [end]': {
    fresh: 'session',
    form: () => ({ intent: 'end' }),
    expect: inSession(403, 403, '302 /s/*', LOGIN),
  },
  'POST /s/:roomCode [promote]': {
    form: (w) => ({ intent: 'promote', ...targetOf(w) }),
    expect: inSession(403, 403, '302 /s/*', LOGIN),
  },
  'POST /s/:roomCode [demote]': {
    form: (w) => ({ intent: 'demote', ...targetOf(w) }),
    expect: inSession(403, 403, '302 /s/*', LOGIN),
  },
  'POST /s/:roomCode [moderator-add]': {
    form: (w) => ({ intent: 'moderator-add', ...targetOf(w) }),
    expect: inSession(404, 403, '302 /s/*', LOGIN),
  },
  'POST /s/:roomCode [moderator-remove]': {
    form: (w) => ({ intent: 'moderator-remove', ...targetOf(w) }),
    expect: inSession(404, 403, '302 /s/*', LOGIN),
  },
  // Everyone in the room may tip its host; the host cannot tip themselves.
  'POST /s/:roomCode [tip]': {
    form: () => ({ intent: 'tip', amount: '1', idempotencyKey: key() }),
    expect: inSession(200, 200, 400, LOGIN),
  },
  'POST /s/:roomCode [record-start]': {
    fresh: 'session',
    form: () => ({ intent: 'record-start' }),
    expect: inSession(404, 403, '302 /s/*', LOGIN),
  },
  'POST /s/:roomCode [record-stop]': {
    fresh: 'session',
    prepare: startRecording,
    form: () => ({ intent: 'record-stop' }),
    expect: inSession(404, 403, '302 /s/*', LOGIN),
  },
  // The host passes the host check and is then short of credits (402).
  'POST /s/:roomCode [boost]': {
    form: () => ({ intent: 'boost', idempotencyKey: key() }),
    expect: inSession(403, 403, 402, LOGIN),
  },
  'POST /s/:roomCode [hls-start]': {
    form: () => ({ intent: 'hls-start' }),
    expect: inSession(403, 403, '302 /s/*', LOGIN),
  },
  'POST /s/:roomCode [hls-stop]': {
    form: () => ({ intent: 'hls-stop' }),
    expect: inSession(403, 403, '302 /s/*', LOGIN),
  },
  'POST /settings [profile]': {
    form: () => ({
      intent: 'profile',
      displayName: 'Renamed',
      bio: '',
      avatarUrl: '',
    }),
    expect: signedIn(200, LOGIN),
  },
  'POST /settings [blocked-terms]': {
    form: () => ({ intent: 'blocked-terms', terms: 'spam' }),
    expect: signedIn(200, LOGIN),
  },
  'POST /settings [signout-everywhere]': {
    fresh: 'people',
    form: () => ({ intent: 'signout-everywhere' }),
    expect: signedIn('302 /login', LOGIN),
  },
  'POST /settings [delete]': {
    fresh: 'people',
    form: (_w, me) => ({ intent: 'delete', confirm: me?.username ?? '' }),
    expect: signedIn('302 /?deleted=1', LOGIN),
  },
  // The person on the page (the host) is the recipient.
  'POST /u/:username': {
    form: () => ({ amount: '1', idempotencyKey: key() }),
    expect: inSession(200, 200, 400, LOGIN),
  },
  'POST /*': { form: () => ({}), expect: everyone(404) },
  'POST /ops [retry]': {
    form: () => ({ intent: 'retry', id: crypto.randomUUID() }),
    expect: everyone(404),
  },
  'POST /welcome [delete]': {
    fresh: 'people',
    form: (_w, me) => ({ intent: 'delete', confirm: me?.username ?? '' }),
    expect: signedIn('302 /?deleted=1', LOGIN),
  },
  'POST /welcome [profile]': {
    form: (_w, me) => ({
      intent: 'profile',
      username: me?.username ?? 'nobody',
      displayName: me?.displayName ?? 'Nobody',
    }),
    expect: signedIn('302 /dashboard', LOGIN),
  },

  // ---- JSON API ----------------------------------------------------------------------------------
  'GET /api/*': { expect: everyone(404) },
  'POST /api/*': { json: () => ({}), expect: everyone(404) },
  'GET /api/health': { expect: everyone(200) },
  // Browsers report violations without cookies; signed in or not makes no difference.
  'POST /api/csp-report': {
    json: (w) => ({
      'csp-report': {
        'document-uri': `http://127.0.0.1:8787/s/${w.session.roomCode}`,
        'blocked-uri': 'inline',
        'effective-directive': 'script-src-elem',
      },
    }),
    headers: { 'Content-Type': 'application/csp-report' },
    expect: everyone(204),
  },
  // The pages' reporter (sendBeacon): anyone, limited per network, never tied to an account.
  'POST /api/monitoring/client': {
    json: () => ({
      page: '/dashboard',
      vitals: [{ name: 'LCP', value: 1200, rating: 'good' }],
    }),
    expect: everyone(204),
  },
  'POST /api/auth/otp/send': {
    json: () => ({ phone: uniquePhone() }),
    expect: everyone(202),
  },
  // No code was sent to a fresh number: a 400 for anyone, signed in or not.
  'POST /api/auth/otp/verify': {
    json: () => ({ phone: uniquePhone(), code: '123456' }),
    expect: everyone(400),
  },
  'POST /api/auth/logout': {
    fresh: 'people',
    json: () => ({}),
    expect: signedIn(200),
  },
  'GET /api/me': { expect: signedIn(200) },
  'PUT /api/me': {
    json: () => ({ displayName: 'Renamed' }),
    expect: signedIn(200),
  },
  'DELETE /api/me': {
    fresh: 'people',
    json: (_w, me) => ({ confirm: me?.username ?? 'nobody' }),
    expect: signedIn(204),
  },
  'GET /api/me/blocked-terms': { expect: signedIn(200) },
  'PUT /api/me/blocked-terms': {
    json: () => ({ terms: ['spam'] }),
    expect: signedIn(200),
  },
  'GET /api/credits/balance': { expect: signedIn(200) },
  'GET /api/credits/transactions': { expect: signedIn(200) },
  'GET /api/credits/leaderboard': { expect: everyone(200) },
  'POST /api/credits/tip': {
    json: (w) => ({ recipientId: w.target.userId, amount: 1 }),
    expect: signedIn(201),
  },
  'GET /api/sessions': { expect: everyone(200) },
  'POST /api/sessions': {
    json: () => ({ title: 'Another one', isPublic: false }),
    expect: signedIn(201),
  },
  // Private: a stranger without the code gets the answer for a session that does not exist.
  'GET /api/sessions/:id': { expect: inSession(404, 200, 200, 404) },
  'POST /api/sessions/:id/token': {
    json: () => ({}),
    expect: inSession(404, 200, 200),
  },
  'POST /api/sessions/:id/presenters': {
    json: (w) => ({ ...targetOf(w), action: 'promote' }),
    expect: inSession(403, 403, 200),
  },
  'POST /api/sessions/:id/end': {
    fresh: 'session',
    json: () => ({}),
    expect: inSession(403, 403, 200),
  },
  'POST /api/sessions/:id/boost': {
    json: () => ({}),
    expect: inSession(403, 403, 402),
  },
  'POST /api/sessions/:id/hls': {
    json: () => ({ action: 'start' }),
    expect: inSession(403, 403, 200),
  },
  'POST /api/sessions/:id/moderators': {
    json: (w) => ({ ...targetOf(w), action: 'add' }),
    expect: inSession(404, 403, 200),
  },
  // Slow mode off: allowed to the host (and moderators), refused to everyone else.
  'POST /api/sessions/:id/moderation': {
    json: () => ({ action: 'slow', seconds: 0 }),
    expect: inSession(404, 403, 200),
  },
  // The chat WebSocket: only an upgrade reaches the checks (a plain GET is 426 for everyone).
  'GET /api/sessions/:id/chat': {
    websocket: true,
    expect: inSession(404, 101, 101),
  },
  'GET /api/sessions/:id/chat.json': {
    fresh: 'session',
    prepare: endSession,
    expect: inSession(404, 403, 200),
  },
  'POST /api/hms/start-recording': {
    fresh: 'session',
    json: (w) => ({ sessionId: w.session.id }),
    expect: inSession(404, 403, 201),
  },
  'POST /api/hms/stop-recording': {
    fresh: 'session',
    prepare: startRecording,
    json: (w) => ({ sessionId: w.session.id }),
    expect: inSession(404, 403, 200),
  },
  'GET /api/recordings/list': { expect: signedIn(200) },
  'GET /api/recordings/:id': { expect: inSession(404, 200, 200) },
  'DELETE /api/recordings/:id': {
    fresh: 'session',
    expect: inSession(404, 403, 204),
  },
  'GET /api/recordings/:id/chat': { expect: inSession(404, 200, 200) },
  'GET /dev/outbox.json': { expect: everyone(200) },
}

/** `302 /s/VIBE-2K4F` for a redirect, the status alone otherwise. */
function outcomeOf(response: Response): string {
  const location = response.headers.get('Location')
  if (response.status >= 300 && response.status < 400 && location)
    return `${response.status} ${new URL(location, 'http://x').pathname}${new URL(location, 'http://x').search}`
  return String(response.status)
}

function matches(actual: string, expected: Expect): boolean {
  const wanted = String(expected)
  return wanted.endsWith('*')
    ? actual.startsWith(wanted.slice(0, -1))
    : actual === wanted
}

async function outcome(
  w: World,
  row: Row,
  method: string,
  pattern: string,
  persona: Persona,
): Promise<string> {
  const me = w.as(persona)
  if (row.websocket) {
    const attempt = connectChat(stack.workers, me, w.session.id)
    try {
      const client = await attempt
      await client.close()
      return '101'
    } catch {
      return String(await refusedStatus(attempt))
    }
  }
  const call: Call = {
    method,
    path: pathIn(w, pattern) + (row.query ?? ''),
    json: row.json?.(w, me),
    form: row.form?.(w, me),
    headers: row.headers,
  }
  const response = await callAs(stack.workers, me, call)
  const text = await response.text()
  if (response.status >= 500)
    throw new Error(`${method} ${pattern} as ${persona}: ${text}`)
  return outcomeOf(response)
}

let shared: Promise<World> | undefined
const sharedWorld = () => (shared ??= createWorld(stack.workers))

async function checkRow(endpoint: Endpoint, row: Row, w: World) {
  await row.prepare?.(w)
  const actual: Record<string, Expect | string> = {}
  for (const persona of PERSONAS) {
    const got = await outcome(w, row, endpoint.method, endpoint.path, persona)
    actual[persona] = matches(got, row.expect[persona])
      ? row.expect[persona]
      : got
  }
  expect(actual).toEqual(row.expect)
}

describe('the authorization matrix', () => {
  const endpoints = appEndpoints()

  test('has exactly one row per endpoint, page and form intent in app/routes/', () => {
    const routes = endpoints.map((e) => e.key).sort()
    expect(Object.keys(MATRIX).sort()).toEqual(routes)
  })

  // Rows that only read or repeat an action share one world, in route order.
  for (const endpoint of endpoints) {
    const row = MATRIX[endpoint.key]
    if (row?.fresh) continue
    test.skipIf(!row)(endpoint.key, async () =>
      checkRow(endpoint, row!, await sharedWorld()),
    )
  }

  // Rows that end or delete something get a session of their own (with the same people), and rows
  // that sign out or delete an account get people of their own too.
  describe('on a world of their own', () => {
    for (const endpoint of endpoints) {
      const row = MATRIX[endpoint.key]
      if (!row?.fresh) continue
      test(endpoint.key, { timeout: 60_000 }, async () => {
        const people = row.fresh === 'session' ? await sharedWorld() : undefined
        await checkRow(endpoint, row, await createWorld(stack.workers, people))
      })
    }
  })

  test('a plain GET of the chat is 426 for everyone: only the upgrade is authorized', async () => {
    const w = await sharedWorld()
    for (const persona of PERSONAS) {
      const response = await callAs(stack.workers, w.as(persona), {
        method: 'GET',
        path: `/api/sessions/${w.session.id}/chat`,
      })
      expect(response.status, persona).toBe(426)
    }
  })

  test('a chat upgrade from another site is refused even for the host', async () => {
    const w = await sharedWorld()
    const status = await refusedStatus(
      connectChat(stack.workers, w.host, w.session.id, {
        origin: 'https://evil.example',
      }),
    )
    expect(status).toBe(403)
  })
})

// The personas are never operators; an operator is a sixth caller, for /ops only.
describe('an operator (users.operator)', () => {
  test('GET /ops is 200 and POST /ops [retry] reaches the model only once `npm run ops:grant` made them one', async () => {
    const username = `matrix_op${Date.now() % 1e6}`
    const ip = '198.51.100.77'
    const operator: Person = {
      ...(await signUp(stack.workers, {
        ip,
        profile: { username, displayName: 'Operator' },
      })),
      username,
      displayName: 'Operator',
      ip,
    }
    const outcomes = async () => [
      outcomeOf(
        await callAs(stack.workers, operator, { method: 'GET', path: '/ops' }),
      ),
      // Not a failed event: the retry is refused by the model, after authorization (409).
      outcomeOf(
        await callAs(stack.workers, operator, {
          method: 'POST',
          path: '/ops',
          form: { intent: 'retry', id: crypto.randomUUID() },
        }),
      ),
    ]
    expect(await outcomes()).toEqual(['404', '404'])
    const granted = await runNpmScript(stack.database, 'ops:grant', [username])
    expect(granted.code).toBe(0)
    expect(await outcomes()).toEqual(['200', '409'])
  }, 60_000)
})

// ---- chat frames ---------------------------------------------------------------------------------

type FramePersona = 'participant' | 'presenter' | 'host'
type FrameRow = {
  /** The frame to send; `theirs` is a message by someone else (the target). */
  frame: (theirs: number) => unknown
  /** What the sender gets back: a frame type, or `error:<code>`. */
  expect: Record<FramePersona, string>
}

// Strangers and anonymous callers never get a socket (the upgrade row above); these are what
// each member of the session may do with one, per frame type of the protocol (SPEC §2a).
const FRAMES: Record<string, FrameRow> = {
  send: {
    frame: () => ({ type: 'send', text: `hello ${key()}` }),
    expect: { participant: 'message', presenter: 'message', host: 'message' },
  },
  resume: {
    frame: (theirs) => ({ type: 'resume', after: theirs - 1 }),
    expect: { participant: 'message', presenter: 'message', host: 'message' },
  },
  // Marking someone else's message as a question is for moderators (the host) only.
  question: {
    frame: (theirs) => ({ type: 'question', id: theirs }),
    expect: {
      participant: 'error:not_your_message',
      presenter: 'error:not_your_message',
      host: 'question',
    },
  },
}

/** The first frame after `from` that answers what was sent. */
function answer(frames: Frame[], from: number): string | undefined {
  const frame = frames.slice(from).find((f) => f.type !== 'moderation')
  if (!frame) return undefined
  return frame.type === 'error' ? `error:${String(frame.code)}` : frame.type
}

describe('the chat frames matrix', () => {
  test('has one row per client frame type of the protocol', () => {
    const types = ClientFrame.options.map((option) => option.shape.type.value)
    expect(Object.keys(FRAMES).sort()).toEqual([...types].sort())
  })

  test('each member gets what their role allows, per frame type', async () => {
    const w = await createWorld(stack.workers, await sharedWorld())
    const author = await connectChat(stack.workers, w.target, w.session.id)
    author.send({ type: 'send', text: 'Is this a question?' })
    const mine = (await author.waitFor(
      (f) =>
        f.type === 'message' &&
        (f as MessageFrame).message.text === 'Is this a question?',
    )) as MessageFrame
    const theirs = mine.message.id
    const actual: Record<string, Record<string, string>> = {}
    const sockets: ChatClient[] = [author]
    try {
      for (const [type, row] of Object.entries(FRAMES)) {
        actual[type] = {}
        for (const persona of ['participant', 'presenter', 'host'] as const) {
          const socket = await connectChat(
            stack.workers,
            w.as(persona),
            w.session.id,
          )
          sockets.push(socket)
          // The welcome and the backlog arrive first; what follows answers the frame.
          await socket.waitFor((f) => f.type === 'welcome')
          await new Promise((resolve) => setTimeout(resolve, 100))
          const from = socket.frames.length
          socket.send(row.frame(theirs))
          await socket
            .waitFor(
              (f) =>
                socket.frames.indexOf(f) >= from && f.type !== 'moderation',
              `an answer to ${type}`,
            )
            .catch(() => undefined)
          actual[type][persona] = answer(socket.frames, from) ?? 'nothing'
          await socket.close()
        }
      }
    } finally {
      await Promise.all(sockets.map((s) => s.close().catch(() => {})))
    }
    expect(actual).toEqual(
      Object.fromEntries(
        Object.entries(FRAMES).map(([type, row]) => [type, row.expect]),
      ),
    )
  })
})
