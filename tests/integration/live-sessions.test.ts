import { jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFakeHms } from '../support/fake-hms'
import { signUp, type TestClient } from '../support/auth'
import { webhookSample } from '../support/webhook-samples'
import { useWorkersOnTestDatabase } from '../support/workers'

// Live sessions through the built Workers, against PostgreSQL and a fake 100ms (SPEC §2, §5).
const fake = useFakeHms()

const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  HLS_VIEWER_THRESHOLD: '1000',
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'session-create': { limit: 1000, periodSeconds: 3600 },
    mutation: { limit: 10_000, periodSeconds: 60 },
  }),
}))

let counter = 0
const freshIp = () => `198.18.${Math.floor(++counter / 250)}.${counter % 250}`
const person = (name: string) =>
  signUp(stack.workers, {
    ip: freshIp(),
    profile: {
      username: `${name}${Date.now() % 1e7}${++counter}`,
      displayName: name,
    },
  })

interface SessionJson {
  id: string
  roomCode: string
  status: 'live' | 'ended'
  maxPresenters: number
}

async function createSession(
  host: TestClient,
  input: Record<string, unknown> = {},
): Promise<SessionJson> {
  const response = await host.send('POST', '/api/sessions', {
    title: 'Building a compiler',
    isPublic: true,
    ...input,
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return ((await response.json()) as { session: SessionJson }).session
}

async function tokenFor(
  user: TestClient,
  sessionId: string,
  body: Record<string, unknown> = {},
) {
  return user.send('POST', `/api/sessions/${sessionId}/token`, body)
}

async function hmsRoomId(sessionId: string): Promise<string> {
  const [row] = await stack.database.query<{ hms_room_id: string }>(
    'SELECT hms_room_id FROM live_sessions WHERE id = $1',
    [sessionId],
  )
  return row!.hms_room_id
}

describe('creating a session', () => {
  test('creates the 100ms room first, then the session with a room code; the host is its host', async () => {
    const host = await person('Host')
    const session = await createSession(host, {
      title: '  Rust from scratch ',
      maxPresenters: 3,
    })
    expect(session.roomCode).toMatch(/^[A-Z]+-[A-HJ-NP-Z2-9]{4}$/)
    expect(session.maxPresenters).toBe(3)
    const roomId = await hmsRoomId(session.id)
    const room = fake.hms.rooms.get(roomId)
    expect(room?.enabled).toBe(true)
    expect(room?.name).toBe(session.roomCode.toLowerCase())
    const [row] = await stack.database.query<{ title: string; role: string }>(
      `SELECT s.title, p.role FROM live_sessions s
       JOIN session_participants p ON p.session_id = s.id AND p.user_id = s.host_id
       WHERE s.id = $1`,
      [session.id],
    )
    expect(row).toEqual({ title: 'Rust from scratch', role: 'host' })
  })

  test('bad input is a 400 naming the fields', async () => {
    const host = await person('Picky')
    const response = await host.send('POST', '/api/sessions', {
      title: '',
      isPublic: 'yes',
      maxPresenters: 9,
    })
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as {
      error: { fields: Record<string, string> }
    }
    expect(Object.keys(error.fields).sort()).toEqual(
      ['isPublic', 'maxPresenters', 'title'].sort(),
    )
  })

  test('a 100ms failure during create leaves no row and no enabled room', async () => {
    const host = await person('Unlucky')
    const before = await stack.database.query('SELECT id FROM live_sessions')
    const roomsBefore = fake.hms.rooms.size

    fake.hms.fail('createRoom', 500)
    const refused = await host.send('POST', '/api/sessions', {
      title: 'Never happens',
      isPublic: true,
    })
    expect(refused.status).toBe(503)
    expect(fake.hms.rooms.size).toBe(roomsBefore)

    // The room exists but the row cannot be written: the room is disabled again.
    await stack.database.query(`
      CREATE FUNCTION refuse_session() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'disk full'; END $$;
      CREATE TRIGGER refuse_session BEFORE INSERT ON live_sessions
        FOR EACH ROW EXECUTE FUNCTION refuse_session();`)
    try {
      const failed = await host.send('POST', '/api/sessions', {
        title: 'Row fails',
        isPublic: true,
      })
      expect(failed.status).toBe(500)
      const created = [...fake.hms.rooms.values()].slice(roomsBefore)
      expect(created).toHaveLength(1)
      expect(created[0]!.enabled).toBe(false)

      // …and if disabling fails too, the orphan is recorded and the job disables it.
      fake.hms.fail('disableRoom', 500)
      const orphaned = await host.send('POST', '/api/sessions', {
        title: 'Orphan',
        isPublic: true,
      })
      expect(orphaned.status).toBe(500)
      const orphan = [...fake.hms.rooms.values()].slice(roomsBefore + 1)
      expect(orphan).toHaveLength(1)
      expect(orphan[0]!.enabled).toBe(true)
      const [recorded] = await stack.database.query<{ hms_room_id: string }>(
        'SELECT hms_room_id FROM orphan_hms_rooms',
      )
      expect(recorded!.hms_room_id).toBe(orphan[0]!.id)
    } finally {
      fake.hms.clearFailures()
      await stack.database.query(
        'DROP TRIGGER refuse_session ON live_sessions; DROP FUNCTION refuse_session();',
      )
    }
    expect((await stack.workers.scheduled('*/10 * * * *')).outcome).toBe('ok')
    expect(
      [...fake.hms.rooms.values()]
        .slice(roomsBefore)
        .every((room) => !room.enabled),
    ).toBe(true)
    expect(
      await stack.database.query('SELECT 1 FROM orphan_hms_rooms'),
    ).toHaveLength(0)
    expect(await stack.database.query('SELECT id FROM live_sessions')).toEqual(
      before,
    )
  })
})

describe('joining', () => {
  test('the token’s role comes from the database: a viewer asking to be host or presenter gets a viewer token', async () => {
    const host = await person('Hoster')
    const viewer = await person('Watcher')
    const session = await createSession(host)
    const roomId = await hmsRoomId(session.id)
    for (const asked of ['host', 'presenter', undefined]) {
      const response = await tokenFor(viewer, session.id, { role: asked })
      expect(response.status).toBe(200)
      const grant = (await response.json()) as {
        token: string
        role: string
        useHls: boolean
      }
      expect(grant.role).toBe('viewer')
      expect(grant.useHls).toBe(false)
      const { payload, protectedHeader } = await jwtVerify(
        grant.token,
        new TextEncoder().encode(fake.hms.secret),
      )
      expect(protectedHeader.alg).toBe('HS256')
      expect(payload).toMatchObject({
        access_key: fake.hms.accessKey,
        type: 'app',
        version: 2,
        role: 'viewer',
        room_id: roomId,
        user_id: viewer.userId,
      })
      expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(60)
    }
    const hostGrant = (await (await tokenFor(host, session.id)).json()) as {
      role: string
    }
    expect(hostGrant.role).toBe('host')
  })

  test('a private session is reachable only with its code; a token is only ever for the session’s own room', async () => {
    const host = await person('Secret')
    const stranger = await person('Stranger')
    const open = await createSession(host)
    const hidden = await createSession(host, { isPublic: false })
    // Another session's code opens nothing.
    expect(
      (await tokenFor(stranger, hidden.id, { roomCode: open.roomCode })).status,
    ).toBe(404)
    expect((await tokenFor(stranger, hidden.id)).status).toBe(404)
    expect((await stranger.get(`/api/sessions/${hidden.id}`)).status).toBe(404)
    const listed = (await (
      await stranger.get('/api/sessions?limit=100')
    ).json()) as {
      sessions: Array<{ id: string }>
    }
    expect(listed.sessions.map((s) => s.id)).toContain(open.id)
    expect(listed.sessions.map((s) => s.id)).not.toContain(hidden.id)

    const withCode = await tokenFor(stranger, hidden.id, {
      roomCode: hidden.roomCode.toLowerCase(),
    })
    expect(withCode.status).toBe(200)
    const { token } = (await withCode.json()) as { token: string }
    const { payload } = await jwtVerify(
      token,
      new TextEncoder().encode(fake.hms.secret),
    )
    expect(payload.room_id).toBe(await hmsRoomId(hidden.id))
    // Once in, the participant may see it without the code.
    expect((await stranger.get(`/api/sessions/${hidden.id}`)).status).toBe(200)
  })

  test('signed-out clients get no token', async () => {
    const host = await person('Open')
    const session = await createSession(host)
    const response = await stack.workers.app(
      `/api/sessions/${session.id}/token`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      },
    )
    expect(response.status).toBe(401)
  })
})

describe('presenters', () => {
  test('only the host promotes; 10 concurrent promotions never exceed the maximum', async () => {
    const host = await person('Lead')
    const session = await createSession(host, { maxPresenters: 2 })
    const viewers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => person(`Viewer${i}`)),
    )
    for (const viewer of viewers)
      expect((await tokenFor(viewer, session.id)).status).toBe(200)

    // A viewer cannot promote themselves (or anyone).
    const self = await viewers[0]!.send(
      'POST',
      `/api/sessions/${session.id}/presenters`,
      { userId: viewers[0]!.userId, action: 'promote' },
    )
    expect(self.status).toBe(403)

    const results = await Promise.all(
      viewers.map((viewer) =>
        host.send('POST', `/api/sessions/${session.id}/presenters`, {
          userId: viewer.userId,
          action: 'promote',
        }),
      ),
    )
    const statuses = results.map((r) => r.status).sort()
    expect(statuses).toEqual([200, ...Array(9).fill(409)])
    const [row] = await stack.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM session_participants
       WHERE session_id = $1 AND role IN ('host', 'presenter')`,
      [session.id],
    )
    expect(row!.n).toBe(2)
  })

  test('a promoted viewer’s next token is a presenter token; a demoted one is a viewer again', async () => {
    const host = await person('Boss')
    const guest = await person('Guest')
    const session = await createSession(host)
    await tokenFor(guest, session.id)
    const promote = await host.send(
      'POST',
      `/api/sessions/${session.id}/presenters`,
      { userId: guest.userId, action: 'promote' },
    )
    expect(promote.status).toBe(200)
    expect(
      ((await (await tokenFor(guest, session.id)).json()) as { role: string })
        .role,
    ).toBe('presenter')
    await host.send('POST', `/api/sessions/${session.id}/presenters`, {
      userId: guest.userId,
      action: 'demote',
    })
    expect(
      ((await (await tokenFor(guest, session.id)).json()) as { role: string })
        .role,
    ).toBe('viewer')
  })
})

describe('host controls on the room page', () => {
  test('a boost the host cannot afford is a 402 with the reason in the form, and nothing is paid', async () => {
    const host = await person('Booster')
    const session = await createSession(host)
    const response = await stack.workers.app(`/s/${session.roomCode}`, {
      method: 'POST',
      headers: {
        Cookie: host.cookie,
        Origin: 'http://127.0.0.1:8787',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        intent: 'boost',
        idempotencyKey: crypto.randomUUID(),
      }).toString(),
      redirect: 'manual',
    })
    expect(response.status).toBe(402)
    expect(await response.text()).toContain('A boost costs 500 credits')
    const me = (await (await host.get('/api/credits/balance')).json()) as {
      balance: number
    }
    expect(me.balance).toBe(100)
  })
})

describe('ending', () => {
  test('only the host ends; ending again (even concurrently) is a no-op that settles once', async () => {
    const host = await person('Ender')
    const viewer = await person('Stayer')
    const session = await createSession(host)
    await tokenFor(viewer, session.id)
    expect(
      (await viewer.send('POST', `/api/sessions/${session.id}/end`)).status,
    ).toBe(403)

    const ends = await Promise.all(
      Array.from({ length: 5 }, () =>
        host.send('POST', `/api/sessions/${session.id}/end`),
      ),
    )
    expect(ends.map((r) => r.status)).toEqual(Array(5).fill(200))
    expect(
      (await host.send('POST', `/api/sessions/${session.id}/end`)).status,
    ).toBe(200)
    const settlements = await stack.database.query(
      'SELECT 1 FROM session_settlements WHERE session_id = $1',
      [session.id],
    )
    expect(settlements).toHaveLength(1)
    const room = fake.hms.rooms.get(await hmsRoomId(session.id))
    expect(room?.enabled).toBe(false)
    // Ended sessions refuse joins.
    expect((await tokenFor(viewer, session.id)).status).toBe(410)
  })

  test('a session abandoned by its host is ended by one run of the job; a second run changes nothing', async () => {
    const host = await person('Absent')
    const session = await createSession(host)
    await stack.database.query(
      "UPDATE live_sessions SET created_at = now() - interval '31 minutes' WHERE id = $1",
      [session.id],
    )
    const fresh = await createSession(host)
    expect((await stack.workers.scheduled('*/10 * * * *')).outcome).toBe('ok')
    const rows = await stack.database.query<{ id: string; status: string }>(
      'SELECT id, status FROM live_sessions WHERE id = ANY($1) ORDER BY status',
      [[session.id, fresh.id]],
    )
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      [session.id]: 'ended',
      [fresh.id]: 'live',
    })
    const snapshot = await stack.database.query(
      'SELECT id, status, ended_at, room_closed_at FROM live_sessions ORDER BY id',
    )
    expect((await stack.workers.scheduled('*/10 * * * *')).outcome).toBe('ok')
    expect(
      await stack.database.query(
        'SELECT id, status, ended_at, room_closed_at FROM live_sessions ORDER BY id',
      ),
    ).toEqual(snapshot)
    expect(
      await stack.database.query(
        'SELECT 1 FROM session_settlements WHERE session_id = $1',
        [session.id],
      ),
    ).toHaveLength(1)
  })

  test('deleting an account ends the sessions it hosts', async () => {
    const host = await person('Leaver')
    const session = await createSession(host)
    const me = (await (await host.get('/api/me')).json()) as {
      user: { username: string }
    }
    const deleted = await host.send('DELETE', '/api/me', {
      confirm: me.user.username,
    })
    expect(deleted.status).toBe(204)
    const [row] = await stack.database.query<{ status: string }>(
      'SELECT status FROM live_sessions WHERE id = $1',
      [session.id],
    )
    expect(row!.status).toBe('ended')
  })
})

describe('peer webhooks', () => {
  function peerEvent(
    type: 'peer.join.success' | 'peer.leave.success',
    roomId: string,
    peer: number,
    prefix: string,
  ) {
    const sample = webhookSample(type)
    const joinedAt = new Date(Date.UTC(2026, 0, 1, 10, 0, peer)).toISOString()
    const leftAt = new Date(Date.UTC(2026, 0, 1, 11, 0, peer)).toISOString()
    return {
      ...sample,
      id: `${prefix}-${type}-${peer}`,
      data: {
        ...sample.data,
        room_id: roomId,
        peer_id: `${prefix}-peer-${peer}`,
        user_id: `not-ours-${peer}`,
        role: peer % 5 === 0 ? 'presenter' : 'viewer',
        joined_at: joinedAt,
        ...(type === 'peer.leave.success'
          ? { left_at: leftAt, duration: 3600 }
          : {}),
      },
    }
  }

  async function intervals(sessionId: string, prefix: string) {
    const rows = await stack.database.query<{
      peer_id: string
      role: string
      joined_at: Date
      left_at: Date
    }>(
      'SELECT peer_id, role, joined_at, left_at FROM peer_intervals WHERE session_id = $1 ORDER BY peer_id',
      [sessionId],
    )
    return rows.map((r) => ({
      ...r,
      peer_id: r.peer_id.replace(prefix, ''),
      joined_at: new Date(r.joined_at).toISOString(),
      left_at: r.left_at && new Date(r.left_at).toISOString(),
    }))
  }

  test('200 peer events delivered shuffled and duplicated give the same intervals as in order', async () => {
    const host = await person('Counter')
    const ordered = await createSession(host)
    const shuffled = await createSession(host)
    const eventsFor = async (sessionId: string, prefix: string) => {
      const roomId = await hmsRoomId(sessionId)
      return Array.from({ length: 100 }, (_, peer) => [
        peerEvent('peer.join.success', roomId, peer, prefix),
        peerEvent('peer.leave.success', roomId, peer, prefix),
      ]).flat()
    }
    for (const event of await eventsFor(ordered.id, 'in'))
      expect(
        (await stack.workers.deliverWebhook(JSON.stringify(event))).status,
      ).toBe(200)

    const events = await eventsFor(shuffled.id, 'sh')
    const messy = [...events, ...events.slice(0, 40)]
    // A fixed shuffle (deterministic, so a failure can be replayed).
    for (let i = messy.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1)
      ;[messy[i], messy[j]] = [messy[j]!, messy[i]!]
    }
    for (let i = 0; i < messy.length; i += 20)
      await Promise.all(
        messy
          .slice(i, i + 20)
          .map((event) => stack.workers.deliverWebhook(JSON.stringify(event))),
      )

    const a = await intervals(ordered.id, 'in')
    expect(a).toHaveLength(100)
    expect(a.every((row) => row.left_at !== null)).toBe(true)
    expect(await intervals(shuffled.id, 'sh')).toEqual(a)
  })

  test('live viewer counts follow joins and leaves; a leave before its join still closes the interval', async () => {
    const host = await person('Live')
    const session = await createSession(host)
    const roomId = await hmsRoomId(session.id)
    const count = async () =>
      (
        (await (await host.get(`/api/sessions/${session.id}`)).json()) as {
          session: { liveViewers: number }
        }
      ).session.liveViewers
    await stack.workers.deliverWebhook(
      JSON.stringify(peerEvent('peer.join.success', roomId, 1, 'live')),
    )
    await stack.workers.deliverWebhook(
      JSON.stringify(peerEvent('peer.join.success', roomId, 2, 'live')),
    )
    expect(await count()).toBe(2)
    await stack.workers.deliverWebhook(
      JSON.stringify(peerEvent('peer.leave.success', roomId, 3, 'live')),
    )
    await stack.workers.deliverWebhook(
      JSON.stringify(peerEvent('peer.join.success', roomId, 3, 'live')),
    )
    await stack.workers.deliverWebhook(
      JSON.stringify(peerEvent('peer.leave.success', roomId, 1, 'live')),
    )
    expect(await count()).toBe(1)
  })
})
