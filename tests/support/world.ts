import { jsonRequest, signUp, type TestClient } from './auth'
import { BASE_URL, type RunningWorkers } from './workers'

// A small world for the authorization matrix and the fuzz suite: the five kinds of caller a route
// must tell apart, around one private live session with a recording, built through the public API
// as people would build it.

export const PERSONAS = [
  'anonymous',
  'stranger',
  'participant',
  'presenter',
  'host',
] as const
export type Persona = (typeof PERSONAS)[number]

export interface Person extends TestClient {
  username: string
  displayName: string
  /** The client address this person's requests come from (per-address limits stay apart). */
  ip: string
}

export interface World {
  /** Signed in, profile complete, never joined the session. */
  stranger: Person
  /** Joined the session as a viewer. */
  participant: Person
  /** Joined, then promoted by the host. */
  presenter: Person
  /** Created the session. */
  host: Person
  /** Another viewer: what promote, moderator and tip rows act on. */
  target: Person
  /** A private, live session (so a stranger without the code cannot see it). */
  session: { id: string; roomCode: string }
  /** A recording of the session, stopped (processing): deletable by the host. */
  recordingId: string
  /** The person behind a persona; null for anonymous. */
  as(persona: Persona): Person | null
}

let counter = 0

/** A fresh client address per person (the sign-in limits count per address). */
export function freshIp(): string {
  counter += 1
  return `198.18.${Math.floor(counter / 250) % 250}.${counter % 250}`
}

async function person(workers: RunningWorkers, role: string): Promise<Person> {
  const ip = freshIp()
  const username = `${role}${Math.random().toString(36).slice(2, 9)}`
  const displayName = `${role[0]!.toUpperCase()}${role.slice(1)}`
  const client = await signUp(workers, {
    ip,
    profile: { username, displayName },
  })
  // Requests read the cookie when they are sent: a test may sign this person in again.
  const me: Person = {
    ...client,
    username,
    displayName,
    ip,
    get: (path) => workers.app(path, { headers: { Cookie: me.cookie } }),
    send: (method, path, body) =>
      workers.app(path, jsonRequest(method, body, { Cookie: me.cookie })),
  }
  return me
}

async function expectStatus(response: Response, status: number, what: string) {
  if (response.status !== status)
    throw new Error(
      `${what}: expected ${status}, got ${response.status} ${await response.text()}`,
    )
  return response
}

export interface People {
  host: Person
  presenter: Person
  participant: Person
  stranger: Person
  target: Person
}

/** Five people signed up through the API, with complete profiles. */
export async function createPeople(workers: RunningWorkers): Promise<People> {
  const [host, presenter, participant, stranger, target] = await Promise.all(
    ['host', 'presenter', 'participant', 'stranger', 'target'].map((role) =>
      person(workers, role),
    ),
  )
  return {
    host: host!,
    presenter: presenter!,
    participant: participant!,
    stranger: stranger!,
    target: target!,
  }
}

/**
 * A new private session of `people.host` that the presenter, the participant and the target
 * joined (the presenter promoted), with one stopped recording.
 */
export async function createWorld(
  workers: RunningWorkers,
  people?: People,
): Promise<World> {
  const { host, presenter, participant, stranger, target } =
    people ?? (await createPeople(workers))
  const created = await expectStatus(
    await host.send('POST', '/api/sessions', {
      title: 'Matrix session',
      isPublic: false,
    }),
    201,
    'creating the session',
  )
  const { session } = (await created.json()) as {
    session: { id: string; roomCode: string }
  }
  for (const viewer of [presenter, participant, target])
    await expectStatus(
      await viewer.send('POST', `/api/sessions/${session.id}/token`, {
        roomCode: session.roomCode,
      }),
      200,
      'joining the session',
    )
  await expectStatus(
    await host.send('POST', `/api/sessions/${session.id}/presenters`, {
      userId: presenter.userId,
      action: 'promote',
    }),
    200,
    'promoting the presenter',
  )
  const started = await expectStatus(
    await host.send('POST', '/api/hms/start-recording', {
      sessionId: session.id,
    }),
    201,
    'starting a recording',
  )
  const { recording } = (await started.json()) as { recording: { id: string } }
  await expectStatus(
    await host.send('POST', '/api/hms/stop-recording', {
      sessionId: session.id,
    }),
    200,
    'stopping the recording',
  )
  const roles = { stranger, participant, presenter, host }
  return {
    ...roles,
    target,
    session,
    recordingId: recording.id,
    as: (persona) => (persona === 'anonymous' ? null : roles[persona]),
  }
}

/** The concrete path of a route pattern in this world. */
export function pathIn(world: World, pattern: string): string {
  return pattern
    .replace('/api/recordings/:id', `/api/recordings/${world.recordingId}`)
    .replace('/api/sessions/:id', `/api/sessions/${world.session.id}`)
    .replace(':roomCode', world.session.roomCode)
    .replace(':username', world.host.username)
    .replace('*', 'no-such-endpoint')
}

export interface Call {
  method: string
  path: string
  /** A JSON body (sent with Content-Type: application/json). */
  json?: unknown
  /** A page form (sent urlencoded, as a browser without JavaScript would). */
  form?: Record<string, string>
  headers?: Record<string, string>
}

/**
 * A request as `who` (null: anonymous), the way a browser on our site sends it: our Origin, the
 * session cookie, redirects not followed.
 */
export function callAs(
  workers: RunningWorkers,
  who: Person | null,
  { method, path, json, form, headers = {} }: Call,
  ip = who?.ip ?? '203.0.113.9',
): Promise<Response> {
  const sent: Record<string, string> = {
    Origin: BASE_URL,
    'CF-Connecting-IP': ip,
    ...(who ? { Cookie: who.cookie } : {}),
  }
  let body: string | undefined
  if (json !== undefined) {
    sent['Content-Type'] = 'application/json'
    body = JSON.stringify(json)
  } else if (form !== undefined) {
    sent['Content-Type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(form).toString()
  }
  return workers.app(path, {
    method,
    headers: { ...sent, ...headers },
    body,
    redirect: 'manual',
  })
}
