import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFakeHms } from '../support/fake-hms'
import { jsonRequest, signUp, type TestClient } from '../support/auth'
import { webhookSample } from '../support/webhook-samples'
import { runNpmScript } from '../support/scripts'
import { useWorkersOnTestDatabase } from '../support/workers'

// Credits (SPEC §3) through the built Workers and a real database: tips, idempotency, boosts,
// settlement from peer webhooks, the tip limit, and the operator scripts. Runs on the embedded
// PGlite too; what needs real concurrency is in credits-concurrency.test.ts.
const fake = useFakeHms()

const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  // The tip limit stays as in production (10 an hour): every test tips from fresh senders.
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
      username: `${name}${process.pid % 1000}${++counter}`,
      displayName: name,
    },
  })

interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> }
}

function tip(
  sender: TestClient,
  body: unknown,
  idempotencyKey?: string,
): Promise<Response> {
  return stack.workers.app(
    '/api/credits/tip',
    jsonRequest('POST', body, {
      Cookie: sender.cookie,
      ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
    }),
  )
}

function boost(
  host: TestClient,
  sessionId: string,
  idempotencyKey?: string,
): Promise<Response> {
  return stack.workers.app(
    `/api/sessions/${sessionId}/boost`,
    jsonRequest('POST', undefined, {
      Cookie: host.cookie,
      ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
    }),
  )
}

async function balance(user: TestClient): Promise<number> {
  const response = await user.get('/api/credits/balance')
  expect(response.status).toBe(200)
  return ((await response.json()) as { balance: number }).balance
}

async function ledgerRowCount(): Promise<number> {
  const [row] = await stack.database.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM credit_transactions',
  )
  return row!.n
}

async function ledgerOf(userId: string) {
  return stack.database.query<{
    seq: number
    amount: number
    balance_after: number
    type: string
    idempotency_key: string
    session_id: string | null
    metadata: Record<string, unknown>
  }>(
    `SELECT seq, amount, balance_after, type, idempotency_key, session_id, metadata
     FROM credit_transactions WHERE user_id = $1 ORDER BY seq`,
    [userId],
  )
}

/**
 * Credits for a test's setup, as the admin adjustment writes them (a ledger row with the next
 * seq and the balance after it): the flow under test is not this one.
 */
async function grant(user: TestClient, amount: number) {
  await stack.database.query(
    `WITH u AS (
       UPDATE users SET credits = credits + $2, credit_seq = credit_seq + 1
       WHERE id = $1 RETURNING id, credits, credit_seq)
     INSERT INTO credit_transactions (user_id, seq, amount, balance_after, type, idempotency_key, metadata)
     SELECT id, credit_seq, $2, credits, 'admin_adjustment', 'admin:' || gen_random_uuid(),
       jsonb_build_object('reason', 'test setup') FROM u`,
    [user.userId, amount],
  )
}

async function createSession(host: TestClient): Promise<string> {
  const response = await host.send('POST', '/api/sessions', {
    title: 'Pairing on the ledger',
    isPublic: true,
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return ((await response.json()) as { session: { id: string } }).session.id
}

async function hmsRoomId(sessionId: string): Promise<string> {
  const [row] = await stack.database.query<{ hms_room_id: string }>(
    'SELECT hms_room_id FROM live_sessions WHERE id = $1',
    [sessionId],
  )
  return row!.hms_room_id
}

/** Moves the session's start back, so intervals of the past fit in its lifetime; returns it. */
async function startedMinutesAgo(
  sessionId: string,
  minutes: number,
): Promise<number> {
  const [row] = await stack.database.query<{ created_at: Date }>(
    `UPDATE live_sessions SET created_at = now() - make_interval(mins => $2)
     WHERE id = $1 RETURNING created_at`,
    [sessionId, minutes],
  )
  return new Date(row!.created_at).getTime()
}

const MINUTE = 60_000

/** A peer.join or peer.leave webhook as 100ms sends it, for one of our users. */
function peerEvent(
  type: 'peer.join.success' | 'peer.leave.success',
  {
    roomId,
    peerId,
    userId,
    role = 'viewer',
    joinedAt,
    leftAt,
  }: {
    roomId: string
    peerId: string
    userId: string
    role?: string
    joinedAt: number
    leftAt?: number
  },
) {
  const sample = webhookSample(type)
  return {
    ...sample,
    timestamp: new Date(leftAt ?? joinedAt).toISOString(),
    data: {
      ...sample.data,
      room_id: roomId,
      peer_id: peerId,
      user_id: userId,
      role,
      joined_at: new Date(joinedAt).toISOString(),
      ...(leftAt === undefined
        ? {}
        : {
            left_at: new Date(leftAt).toISOString(),
            duration: Math.round((leftAt - joinedAt) / 1000),
          }),
    },
  }
}

async function deliver(events: unknown[]) {
  for (const event of events) {
    const response = await stack.workers.deliverWebhook(JSON.stringify(event))
    expect(response.status).toBe(200)
  }
}

describe('tips', () => {
  test('bad tips are refused with field messages and write nothing', async () => {
    const alice = await person('Alice')
    const bob = await person('Bob')
    const elsewhere = await createSession(await person('Elsewhere'))
    const rowsBefore = await ledgerRowCount()

    for (const amount of [0, -5, 1.5, 10_001, '10', null]) {
      const response = await tip(alice, { recipientId: bob.userId, amount })
      expect(response.status, `amount ${JSON.stringify(amount)}`).toBe(400)
      const { error } = (await response.json()) as ErrorBody
      expect(Object.keys(error.fields ?? {})).toEqual(['amount'])
      expect(error.fields!.amount).toMatch(/credit/)
    }
    const notAnId = await tip(alice, { recipientId: 'bob', amount: 5 })
    expect(notAnId.status).toBe(400)
    expect(((await notAnId.json()) as ErrorBody).error.fields).toHaveProperty(
      'recipientId',
    )
    const longMessage = await tip(alice, {
      recipientId: bob.userId,
      amount: 5,
      message: 'x'.repeat(141),
    })
    expect(longMessage.status).toBe(400)
    expect(
      ((await longMessage.json()) as ErrorBody).error.fields,
    ).toHaveProperty('message')

    const self = await tip(alice, { recipientId: alice.userId, amount: 5 })
    expect(self.status).toBe(400)
    const selfError = ((await self.json()) as ErrorBody).error
    expect(selfError.code).toBe('self_tip')
    expect(selfError.fields).toHaveProperty('recipientId')

    const nobody = await tip(alice, {
      recipientId: crypto.randomUUID(),
      amount: 5,
    })
    expect(nobody.status).toBe(404)
    expect(((await nobody.json()) as ErrorBody).error.fields).toHaveProperty(
      'recipientId',
    )

    const noSession = await tip(alice, {
      recipientId: bob.userId,
      amount: 5,
      sessionId: crypto.randomUUID(),
    })
    expect(noSession.status).toBe(404)
    expect(((await noSession.json()) as ErrorBody).error.fields).toHaveProperty(
      'sessionId',
    )

    // A session the recipient is not in: the tip cannot be filed under it.
    const notThere = await tip(alice, {
      recipientId: bob.userId,
      amount: 5,
      sessionId: elsewhere,
    })
    expect(notThere.status).toBe(400)
    expect(((await notThere.json()) as ErrorBody).error.code).toBe(
      'not_in_session',
    )

    expect(await ledgerRowCount()).toBe(rowsBefore)
    expect(await balance(alice)).toBe(100)
    expect(await balance(bob)).toBe(100)
    expect(
      await stack.database.query(
        'SELECT 1 FROM idempotent_responses WHERE user_id = $1',
        [alice.userId],
      ),
    ).toHaveLength(0)
  })

  test('a new account has the 100-credit welcome bonus, once; a tip above the balance is a 402 that changes nothing', async () => {
    const carol = await signUp(stack.workers, { ip: freshIp() })
    const dave = await person('Dave')
    expect(await balance(carol)).toBe(0)
    const profile = { username: `carol${process.pid % 1000}`, displayName: 'C' }
    expect((await carol.send('PUT', '/api/me', profile)).status).toBe(200)
    // Editing the profile again is not completing it again.
    const again = await carol.send('PUT', '/api/me', {
      ...profile,
      displayName: 'Carol',
    })
    expect(again.status).toBe(200)
    expect(
      ((await again.json()) as { user: { credits: number } }).user,
    ).toEqual(expect.objectContaining({ credits: 100 }))
    const welcome = await ledgerOf(carol.userId)
    expect(welcome).toEqual([
      expect.objectContaining({
        seq: 1,
        amount: 100,
        balance_after: 100,
        type: 'bonus_welcome',
      }),
    ])

    const rowsBefore = await ledgerRowCount()
    const short = await tip(carol, { recipientId: dave.userId, amount: 101 })
    expect(short.status).toBe(402)
    const { error } = (await short.json()) as ErrorBody
    expect(error.code).toBe('insufficient_credits')
    expect(error.fields?.amount).toMatch(/100/)
    expect(await ledgerRowCount()).toBe(rowsBefore)

    const all = await tip(carol, {
      recipientId: dave.userId,
      amount: 100,
      message: '  thanks for the stream  ',
    })
    expect(all.status).toBe(201)
    expect(await all.json()).toEqual({
      tip: {
        recipientId: dave.userId,
        amount: 100,
        message: 'thanks for the stream',
        sessionId: null,
      },
      balance: 0,
    })
    expect(await balance(carol)).toBe(0)
    expect(await balance(dave)).toBe(200)
    expect(
      (await tip(carol, { recipientId: dave.userId, amount: 1 })).status,
    ).toBe(402)
    const [sent] = (await ledgerOf(carol.userId)).slice(-1)
    const [received] = (await ledgerOf(dave.userId)).slice(-1)
    expect(sent).toMatchObject({
      amount: -100,
      balance_after: 0,
      type: 'tip_sent',
    })
    expect(received).toMatchObject({
      amount: 100,
      balance_after: 200,
      type: 'tip_received',
      idempotency_key: sent!.idempotency_key,
      metadata: { message: 'thanks for the stream' },
    })
  })

  test('a retry with the same Idempotency-Key pays once and answers what the first answered', async () => {
    const erin = await person('Erin')
    const frank = await person('Frank')
    const key = crypto.randomUUID()
    const first = await tip(
      erin,
      { recipientId: frank.userId, amount: 30 },
      key,
    )
    expect(first.status).toBe(201)
    const firstBody = await first.json()
    for (let i = 0; i < 2; i++) {
      const retry = await tip(
        erin,
        { recipientId: frank.userId, amount: 30 },
        key,
      )
      expect(retry.status).toBe(201)
      expect(await retry.json()).toEqual(firstBody)
    }
    // The same key with another request is a client's mistake: refused, and nothing more is paid.
    const changed = await tip(
      erin,
      { recipientId: frank.userId, amount: 50 },
      key,
    )
    expect(changed.status).toBe(422)
    expect(((await changed.json()) as ErrorBody).error.code).toBe(
      'idempotency_key_reused',
    )
    expect(await balance(erin)).toBe(70)
    expect(await balance(frank)).toBe(130)
    // Another key is another tip; keys belong to their sender.
    expect(
      (await tip(erin, { recipientId: frank.userId, amount: 30 }, `${key}-2`))
        .status,
    ).toBe(201)
    expect(
      (await tip(frank, { recipientId: erin.userId, amount: 5 }, key)).status,
    ).toBe(201)
    expect(await balance(erin)).toBe(45)
    expect(await balance(frank)).toBe(155)
    const sent = (await ledgerOf(erin.userId)).filter(
      (r) => r.type === 'tip_sent',
    )
    expect(sent.map((r) => r.amount)).toEqual([-30, -30])
  })

  test('a malformed Idempotency-Key is refused, not ignored', async () => {
    const gina = await person('Gina')
    const hank = await person('Hank')
    const response = await tip(
      gina,
      { recipientId: hank.userId, amount: 1 },
      'x'.repeat(101),
    )
    expect(response.status).toBe(400)
    expect(await balance(gina)).toBe(100)
  })

  test('the 11th tip in an hour is a 429 with Retry-After, and pays nothing', async () => {
    const ivan = await person('Ivan')
    const judy = await person('Judy')
    const keys = Array.from({ length: 10 }, () => crypto.randomUUID())
    for (const key of keys)
      expect(
        (await tip(ivan, { recipientId: judy.userId, amount: 1 }, key)).status,
      ).toBe(201)
    const eleventh = await tip(ivan, { recipientId: judy.userId, amount: 1 })
    expect(eleventh.status).toBe(429)
    const retryAfter = Number(eleventh.headers.get('Retry-After'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    expect(((await eleventh.json()) as ErrorBody).error.code).toBeTruthy()
    expect(await balance(ivan)).toBe(90)
    expect(await balance(judy)).toBe(110)
  })

  test('a retry of a paid tip, sent after the hourly limit is reached, still answers what the first answered', async () => {
    // SPEC §3: "a retry with the same key pays once and answers what the first request answered".
    // The retry is not a new tip, so the tip limit has nothing to refuse.
    const kim = await person('Kim')
    const leo = await person('Leo')
    const keys = Array.from({ length: 10 }, () => crypto.randomUUID())
    let last: unknown
    for (const key of keys) {
      const response = await tip(
        kim,
        { recipientId: leo.userId, amount: 2 },
        key,
      )
      expect(response.status).toBe(201)
      last = await response.json()
    }
    const retry = await tip(
      kim,
      { recipientId: leo.userId, amount: 2 },
      keys[9],
    )
    expect(retry.status).toBe(201)
    expect(await retry.json()).toEqual(last)
    expect(await balance(kim)).toBe(80)
  })
})

describe('boosts', () => {
  test('500 credits feature a live session for 24 hours: once while active, host only, 402 when short', async () => {
    const host = await person('Booster')
    const other = await person('Nosy')
    const sessionId = await createSession(host)

    const short = await boost(host, sessionId)
    expect(short.status).toBe(402)
    expect(await balance(host)).toBe(100)

    await grant(host, 1000)
    expect((await boost(other, sessionId)).status).toBe(403)
    const key = crypto.randomUUID()
    const boosted = await boost(host, sessionId, key)
    expect(boosted.status).toBe(200)
    const body = (await boosted.json()) as {
      boostedUntil: string
      balance: number
    }
    expect(body.balance).toBe(600)
    const hours =
      (new Date(body.boostedUntil).getTime() - Date.now()) / 3_600_000
    expect(hours).toBeGreaterThan(23.9)
    expect(hours).toBeLessThanOrEqual(24)

    const retry = await boost(host, sessionId, key)
    expect(retry.status).toBe(200)
    expect(await retry.json()).toEqual(body)
    const stacked = await boost(host, sessionId)
    expect(stacked.status).toBe(409)
    expect(await balance(host)).toBe(600)

    const listed = (await (
      await other.get('/api/sessions?limit=100')
    ).json()) as {
      sessions: Array<{ id: string; isBoosted: boolean }>
    }
    expect(listed.sessions[0]).toMatchObject({ id: sessionId, isBoosted: true })

    await host.send('POST', `/api/sessions/${sessionId}/end`)
    // An ended session cannot be boosted (even once its boost has run out).
    await stack.database.query(
      "UPDATE live_sessions SET boosted_until = now() - interval '1 second' WHERE id = $1",
      [sessionId],
    )
    expect((await boost(host, sessionId)).status).toBe(410)
    expect(
      (await ledgerOf(host.userId)).filter((r) => r.type === 'boost'),
    ).toEqual([
      expect.objectContaining({ amount: -500, session_id: sessionId }),
    ])
  })
})

describe('settlement', () => {
  test('pays watchers, presenters and the host once, from the intervals the webhooks recorded', async () => {
    const host = await person('Hostess')
    const viewer = await person('Viewer')
    const early = await person('Early')
    const presenter = await person('Speaker')
    const absent = await person('Absent')
    const sessionId = await createSession(host)
    for (const user of [viewer, early, presenter, absent])
      expect(
        (await user.send('POST', `/api/sessions/${sessionId}/token`, {}))
          .status,
      ).toBe(200)
    expect(
      (
        await host.send('POST', `/api/sessions/${sessionId}/presenters`, {
          userId: presenter.userId,
          action: 'promote',
        })
      ).status,
    ).toBe(200)

    const roomId = await hmsRoomId(sessionId)
    const t0 = await startedMinutesAgo(sessionId, 50)
    const at = (minutes: number) => t0 + minutes * MINUTE
    const p = (id: string) => `${sessionId}-${id}`
    const joins = [
      // The host joined a minute in and is still there when the session ends: 49 minutes.
      peerEvent('peer.join.success', {
        roomId,
        peerId: p('host'),
        userId: host.userId,
        role: 'host',
        joinedAt: at(1),
      }),
      // Two tabs overlapping (2–12 and 10–20.5) and a return (30–35.9): 18.5 + 5.9 = 24.4 → 24.
      ...[
        [2, 12],
        [10, 20.5],
        [30, 35.9],
      ].flatMap(([from, to], i) =>
        (['peer.join.success', 'peer.leave.success'] as const).map((type) =>
          peerEvent(type, {
            roomId,
            peerId: p(`viewer-${i}`),
            userId: viewer.userId,
            joinedAt: at(from!),
            leftAt: type === 'peer.leave.success' ? at(to!) : undefined,
          }),
        ),
      ),
      // In the room before the session's start (clipped): 3.5 minutes count, 3 are paid.
      peerEvent('peer.leave.success', {
        roomId,
        peerId: p('early'),
        userId: early.userId,
        joinedAt: at(-5),
        leftAt: at(3.5),
      }),
      // A presenter for 7 minutes: floor(7 × 1.5) = 10.
      peerEvent('peer.leave.success', {
        roomId,
        peerId: p('presenter'),
        userId: presenter.userId,
        role: 'presenter',
        joinedAt: at(5),
        leftAt: at(12),
      }),
      // Under a minute earns nothing.
      peerEvent('peer.leave.success', {
        roomId,
        peerId: p('absent'),
        userId: absent.userId,
        joinedAt: at(40),
        leftAt: at(40.9),
      }),
    ]
    await deliver(joins)

    const ended = await host.send('POST', `/api/sessions/${sessionId}/end`)
    expect(ended.status).toBe(200)

    const paid = await stack.database.query<{
      user_id: string
      type: string
      amount: number
      metadata: Record<string, unknown>
    }>(
      `SELECT user_id, type, amount, metadata FROM credit_transactions
       WHERE session_id = $1 ORDER BY type, user_id`,
      [sessionId],
    )
    const byUser = Object.fromEntries(
      paid.map((r) => [`${r.user_id}:${r.type}`, r.amount]),
    )
    // Host: (49 × 5 + (24 + 3) × 2) × 2 (the session lasted 50 minutes) = 598. Presenters are not
    // viewers: their minutes do not count towards the host's viewer-minutes.
    expect(byUser).toEqual({
      [`${host.userId}:settlement_host`]: 598,
      [`${viewer.userId}:settlement_viewer`]: 24,
      [`${early.userId}:settlement_viewer`]: 3,
      [`${presenter.userId}:settlement_presenter`]: 10,
    })
    const hostRow = paid.find((r) => r.type === 'settlement_host')!
    expect(hostRow.metadata).toMatchObject({
      minutes: 49,
      viewerMinutes: 27,
      multiplier: 2,
    })

    // First session watched (100) and hosted (200): one-time milestones on top.
    const expected = {
      host: 100 + 598 + 200,
      viewer: 100 + 24 + 100,
      early: 100 + 3 + 100,
      presenter: 100 + 10 + 100,
      absent: 100,
    }
    const balances = async () => ({
      host: await balance(host),
      viewer: await balance(viewer),
      early: await balance(early),
      presenter: await balance(presenter),
      absent: await balance(absent),
    })
    expect(await balances()).toEqual(expected)
    const rowsAfter = await ledgerRowCount()

    // Replays, late events and a second end change nothing.
    await deliver(joins.map((event) => ({ ...event })))
    await deliver([
      peerEvent('peer.leave.success', {
        roomId,
        peerId: p('host'),
        userId: host.userId,
        role: 'host',
        joinedAt: at(1),
        leftAt: at(49.5),
      }),
      peerEvent('peer.leave.success', {
        roomId,
        peerId: p('late'),
        userId: absent.userId,
        joinedAt: at(10),
        leftAt: at(45),
      }),
    ])
    const ends = await Promise.all([
      host.send('POST', `/api/sessions/${sessionId}/end`),
      host.send('POST', `/api/sessions/${sessionId}/end`),
    ])
    expect(ends.map((r) => r.status)).toEqual([200, 200])
    expect(await balances()).toEqual(expected)
    expect(await ledgerRowCount()).toBe(rowsAfter)
  })

  test('a session under 30 minutes is not doubled; one of 30 or more is', async () => {
    const results: Record<string, number> = {}
    for (const minutes of [29, 30]) {
      const host = await person(`Short${minutes}`)
      const sessionId = await createSession(host)
      const roomId = await hmsRoomId(sessionId)
      const t0 = await startedMinutesAgo(sessionId, minutes)
      await deliver([
        peerEvent('peer.leave.success', {
          roomId,
          peerId: `${sessionId}-host`,
          userId: host.userId,
          role: 'host',
          joinedAt: t0,
          leftAt: t0 + 20 * MINUTE,
        }),
      ])
      expect(
        (await host.send('POST', `/api/sessions/${sessionId}/end`)).status,
      ).toBe(200)
      const [row] = await stack.database.query<{ amount: number }>(
        "SELECT amount FROM credit_transactions WHERE session_id = $1 AND type = 'settlement_host'",
        [sessionId],
      )
      results[minutes] = row!.amount
    }
    expect(results).toEqual({ 29: 100, 30: 200 })
  })
})

describe('operator scripts', () => {
  test('credits:adjust writes an admin_adjustment with its reason, and refuses a result below 0', async () => {
    const mia = await person('Mia')
    const username = (
      (await (await mia.get('/api/me')).json()) as {
        user: { username: string }
      }
    ).user.username

    const added = await runNpmScript(stack.database, 'credits:adjust', [
      '--user',
      username.toUpperCase(),
      '--amount',
      '+250',
      '--reason',
      'refund for the outage',
    ])
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toMatch(/balance 100 → 350/)
    const taken = await runNpmScript(stack.database, 'credits:adjust', [
      `--user=${username}`,
      '--amount',
      '-50',
      '--reason',
      'duplicate payout',
    ])
    expect(taken.code, taken.stderr).toBe(0)
    expect(await balance(mia)).toBe(300)
    expect((await ledgerOf(mia.userId)).slice(1)).toEqual([
      expect.objectContaining({
        seq: 2,
        amount: 250,
        balance_after: 350,
        type: 'admin_adjustment',
        metadata: { reason: 'refund for the outage' },
      }),
      expect.objectContaining({
        seq: 3,
        amount: -50,
        balance_after: 300,
        type: 'admin_adjustment',
        metadata: { reason: 'duplicate payout' },
      }),
    ])

    const rowsBefore = await ledgerRowCount()
    const below = await runNpmScript(stack.database, 'credits:adjust', [
      '--user',
      username,
      '--amount',
      '-301',
      '--reason',
      'too much',
    ])
    expect(below.code).toBe(1)
    expect(below.stderr).toMatch(
      /refused, nothing changed.*below 0 \(it is 300\)/,
    )
    const refusals = [
      ['--user', 'nobody-here', '--amount', '5', '--reason', 'x'],
      ['--user', username, '--amount', '1.5', '--reason', 'x'],
      ['--user', username, '--amount', '0', '--reason', 'x'],
      ['--user', username, '--amount', '5'],
      ['--user', username, '--amount', '5', '--reason', '   '],
      ['--amount', '5', '--reason', 'x'],
    ]
    const refused = await Promise.all(
      refusals.map((args) =>
        runNpmScript(stack.database, 'credits:adjust', args),
      ),
    )
    for (const [i, outcome] of refused.entries()) {
      expect(outcome.code, refusals[i]!.join(' ')).toBe(1)
      expect(outcome.stderr, refusals[i]!.join(' ')).toMatch(
        /^credits:adjust: /,
      )
    }
    expect(refused[0]!.stderr).toMatch(/no user named "nobody-here"/)
    expect(await ledgerRowCount()).toBe(rowsBefore)
    expect(await balance(mia)).toBe(300)
  })

  test('credits:audit passes on the ledger the app wrote, and reports each kind of corruption', async () => {
    const clean = await runNpmScript(stack.database, 'credits:audit')
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    expect(clean.stdout).toMatch(/OK: .* every balance and chain matches/)

    const nina = await person('Nina')
    const otto = await person('Otto')
    expect(
      (await tip(nina, { recipientId: otto.userId, amount: 10 })).status,
    ).toBe(201)
    expect(
      (await tip(nina, { recipientId: otto.userId, amount: 20 })).status,
    ).toBe(201)
    // Nina: welcome (1), tip (2), tip (3). Otto: welcome (1), tip received (2), received (3).
    const snapshot = await stack.database.query(
      'SELECT * FROM credit_transactions WHERE user_id = ANY($1)',
      [[nina.userId, otto.userId]],
    )
    const users = await stack.database.query(
      'SELECT id, credits, credit_seq FROM users WHERE id = ANY($1)',
      [[nina.userId, otto.userId]],
    )
    try {
      await stack.database.query(
        `DELETE FROM credit_transactions WHERE user_id = $1 AND seq = 2;
         UPDATE credit_transactions SET balance_after = balance_after + 1
           WHERE user_id = $2 AND seq = 2;
         UPDATE users SET credits = credits + 7, credit_seq = 9 WHERE id = $2;`
          .replace(/\$1/g, `'${nina.userId}'`)
          .replace(/\$2/g, `'${otto.userId}'`),
      )
      const audit = await runNpmScript(stack.database, 'credits:audit', [
        '--batch',
        '2',
      ])
      expect(audit.code).toBe(1)
      const lines = audit.stdout.split('\n')
      const about = (userId: string, kind: string) =>
        lines.filter((l) => l.startsWith(`MISMATCH ${kind}: user ${userId}`))
      expect(about(nina.userId, 'seq')).toEqual([
        expect.stringMatching(/seq 3: seq jumps from 1 to 3/),
      ])
      expect(about(nina.userId, 'balance_after')).toHaveLength(1)
      expect(about(nina.userId, 'credit_seq')).toEqual([
        expect.stringMatching(/credit_seq is 3, but the user has 2/),
      ])
      expect(about(nina.userId, 'credits')).toHaveLength(1)
      expect(about(otto.userId, 'balance_after')).toEqual([
        expect.stringMatching(
          /seq 2: balance_after is 111, but the running sum of the amounts is 110/,
        ),
      ])
      expect(about(otto.userId, 'credits')).toEqual([
        expect.stringMatching(
          /users.credits is 137, but the ledger adds up to 130/,
        ),
      ])
      expect(about(otto.userId, 'credit_seq')).toHaveLength(1)
      expect(audit.stdout).toMatch(/credits:audit: 7 mismatch\(es\)/)
      // More than one batch: the progress bar shows (a line per 10% when not on a terminal).
      expect(audit.stderr).toMatch(/\[#+\] 100% /)
    } finally {
      await stack.database.query(
        'DELETE FROM credit_transactions WHERE user_id = ANY($1)',
        [[nina.userId, otto.userId]],
      )
      for (const row of snapshot as Array<Record<string, unknown>>)
        await stack.database.query(
          `INSERT INTO credit_transactions (id, user_id, seq, amount, balance_after, type,
             session_id, counterparty_id, idempotency_key, metadata, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            row.id,
            row.user_id,
            row.seq,
            row.amount,
            row.balance_after,
            row.type,
            row.session_id,
            row.counterparty_id,
            row.idempotency_key,
            row.metadata,
            row.created_at,
          ],
        )
      for (const row of users as Array<Record<string, unknown>>)
        await stack.database.query(
          'UPDATE users SET credits = $2, credit_seq = $3 WHERE id = $1',
          [row.id, row.credits, row.credit_seq],
        )
    }
    const restored = await runNpmScript(stack.database, 'credits:audit')
    expect(restored.code, restored.stdout).toBe(0)
  })
})
