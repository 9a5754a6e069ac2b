import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startFakeHms } from '../fakes/hms.mjs'
import { jsonRequest, signUp, type TestClient } from '../support/auth'
import { webhookSample } from '../support/webhook-samples'
import { runNpmScript } from '../support/scripts'
import { useWorkersOnTestDatabase } from '../support/workers'

// Credits under concurrency (SPEC §3), through the built Workers against PostgreSQL: the welcome
// bonus, idempotent retries, settlement and boosts raced, and a storm of 2,000 tips, boosts and
// settlements among 20 users audited afterwards. The embedded PGlite runs one statement at a time
// for everyone, so nothing here could race on it: these need TEST_DATABASE_URL.
const realPostgres = Boolean(process.env.TEST_DATABASE_URL)
if (!realPostgres)
  console.warn(
    'credits-concurrency.test.ts: SKIPPED. These tests race requests against each other, which ' +
      'only a real PostgreSQL can show (PGlite serialises everything). Run them with ' +
      'TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test.',
  )

type FakeHms = Awaited<ReturnType<typeof startFakeHms>>
let hms: FakeHms
beforeAll(async () => {
  if (realPostgres) hms = await startFakeHms()
})
afterAll(async () => {
  await hms?.close()
})

const stack = useWorkersOnTestDatabase(() => ({
  HMS_API_BASE: hms?.url,
  HMS_ACCESS_KEY: hms?.accessKey,
  HMS_SECRET: hms?.secret,
  HMS_TEMPLATE_ID: hms?.templateId,
  // The tip limit (10 an hour) has its own test in credits.test.ts; here it would stop the storm.
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    tip: { limit: 100_000, periodSeconds: 3600 },
    mutation: { limit: 100_000, periodSeconds: 60 },
    'session-create': { limit: 1000, periodSeconds: 3600 },
  }),
}))

let counter = 0
const freshIp = () => `198.19.${Math.floor(++counter / 250)}.${counter % 250}`
const usernameFor = (name: string) =>
  `${name}${process.pid % 1000}${++counter}`.slice(0, 30)
const person = (name: string) =>
  signUp(stack.workers, {
    ip: freshIp(),
    profile: { username: usernameFor(name), displayName: name },
  })

function post(
  user: TestClient,
  path: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<Response> {
  return stack.workers.app(
    path,
    jsonRequest('POST', body, {
      Cookie: user.cookie,
      ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
    }),
  )
}

async function balance(user: TestClient): Promise<number> {
  const response = await user.get('/api/credits/balance')
  expect(response.status).toBe(200)
  return ((await response.json()) as { balance: number }).balance
}

async function grant(userId: string, amount: number) {
  await stack.database.query(
    `WITH u AS (
       UPDATE users SET credits = credits + $2, credit_seq = credit_seq + 1
       WHERE id = $1 RETURNING id, credits, credit_seq)
     INSERT INTO credit_transactions (user_id, seq, amount, balance_after, type, idempotency_key, metadata)
     SELECT id, credit_seq, $2, credits, 'admin_adjustment', 'admin:' || gen_random_uuid(),
       jsonb_build_object('reason', 'test setup') FROM u`,
    [userId, amount],
  )
}

async function createSession(host: TestClient): Promise<string> {
  const response = await post(host, '/api/sessions', {
    title: 'Racing the ledger',
    isPublic: true,
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return ((await response.json()) as { session: { id: string } }).session.id
}

/** The session's 100ms room, and its start moved `minutes` back so past intervals fit. */
async function sessionStartedAgo(sessionId: string, minutes: number) {
  const [row] = await stack.database.query<{
    hms_room_id: string
    created_at: Date
  }>(
    `UPDATE live_sessions SET created_at = now() - make_interval(mins => $2)
     WHERE id = $1 RETURNING hms_room_id, created_at`,
    [sessionId, minutes],
  )
  return { roomId: row!.hms_room_id, t0: new Date(row!.created_at).getTime() }
}

const MINUTE = 60_000

function peerLeave(
  roomId: string,
  peerId: string,
  userId: string,
  joinedAt: number,
  leftAt: number,
) {
  const sample = webhookSample('peer.leave.success')
  return {
    ...sample,
    timestamp: new Date(leftAt).toISOString(),
    data: {
      ...sample.data,
      room_id: roomId,
      peer_id: peerId,
      user_id: userId,
      role: 'viewer',
      joined_at: new Date(joinedAt).toISOString(),
      left_at: new Date(leftAt).toISOString(),
      duration: Math.round((leftAt - joinedAt) / 1000),
    },
  }
}

describe.skipIf(!realPostgres)('raced requests', () => {
  test('completing a profile twice at once pays the welcome bonus once', async () => {
    const newcomer = await signUp(stack.workers, { ip: freshIp() })
    const profile = { username: usernameFor('Twice'), displayName: 'Twice' }
    const answers = await Promise.all([
      newcomer.send('PUT', '/api/me', profile),
      newcomer.send('PUT', '/api/me', profile),
    ])
    expect(answers.map((r) => r.status)).toEqual([200, 200])
    expect(await balance(newcomer)).toBe(100)
    expect(
      await stack.database.query(
        'SELECT seq, amount FROM credit_transactions WHERE user_id = $1',
        [newcomer.userId],
      ),
    ).toEqual([{ seq: 1, amount: 100 }])
  })

  test('5 tips sent at once with one Idempotency-Key pay once, and all answer what the first answered', async () => {
    const sender = await person('Eager')
    const recipient = await person('Patient')
    const key = crypto.randomUUID()
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        post(
          sender,
          '/api/credits/tip',
          { recipientId: recipient.userId, amount: 40 },
          key,
        ),
      ),
    )
    const bodies = await Promise.all(answers.map((r) => r.json()))
    expect(answers.map((r) => r.status)).toEqual(Array(5).fill(201))
    for (const body of bodies) expect(body).toEqual(bodies[0])
    expect(bodies[0]).toMatchObject({ balance: 60 })
    expect(await balance(sender)).toBe(60)
    expect(await balance(recipient)).toBe(140)
    expect(
      await stack.database.query(
        "SELECT amount FROM credit_transactions WHERE user_id = $1 AND type = 'tip_sent'",
        [sender.userId],
      ),
    ).toEqual([{ amount: -40 }])
  })

  test('10 tips from one sender at once, each with its own key, are all paid', async () => {
    // Each request first claims its key (a row that references the sender, so a KEY SHARE lock on
    // the sender's row), then locks the sender's row to debit it.
    const sender = await person('Generous')
    const recipients = await Promise.all([person('Rae'), person('Ray')])
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(
          sender,
          '/api/credits/tip',
          { recipientId: recipients[i % 2]!.userId, amount: 5 },
          crypto.randomUUID(),
        ),
      ),
    )
    const causes = stack.workers
      .logs()
      .filter((l) => l.includes('"level":"error"'))
      .map((l) => /\(cause: ([^)]*)\)/.exec(l)?.[1] ?? 'see the logs')
    expect(
      answers.map((r) => r.status),
      [...new Set(causes)].join(', '),
    ).toEqual(Array(10).fill(201))
    expect(await balance(sender)).toBe(50)
  })

  test('a session ended 10 times at once is settled once, as the rules say', async () => {
    const host = await person('Closer')
    const viewers = await Promise.all([person('Ann'), person('Ben')])
    const sessionId = await createSession(host)
    const { roomId, t0 } = await sessionStartedAgo(sessionId, 40)
    const at = (m: number) => t0 + m * MINUTE
    for (const event of [
      peerLeave(roomId, `${sessionId}-h`, host.userId, at(0), at(38.5)),
      peerLeave(roomId, `${sessionId}-a`, viewers[0].userId, at(1), at(31.2)),
      peerLeave(roomId, `${sessionId}-b`, viewers[1].userId, at(10), at(22)),
    ])
      expect(
        (await stack.workers.deliverWebhook(JSON.stringify(event))).status,
      ).toBe(200)

    const ends = await Promise.all(
      Array.from({ length: 10 }, () =>
        post(host, `/api/sessions/${sessionId}/end`),
      ),
    )
    expect(ends.map((r) => r.status)).toEqual(Array(10).fill(200))
    const paid = await stack.database.query<{
      user_id: string
      amount: number
    }>(
      "SELECT user_id, amount FROM credit_transactions WHERE session_id = $1 AND type LIKE 'settlement_%'",
      [sessionId],
    )
    // Viewers 30 and 12 minutes; host (38 × 5 + 42 × 2) × 2 = 548.
    expect(Object.fromEntries(paid.map((r) => [r.user_id, r.amount]))).toEqual({
      [host.userId]: 548,
      [viewers[0].userId]: 30,
      [viewers[1].userId]: 12,
    })
    expect(paid).toHaveLength(3)
    // Plus the first-hosted (200) and first-watched (100) milestones, once each.
    expect(await balance(host)).toBe(100 + 548 + 200)
    expect(await balance(viewers[0])).toBe(100 + 30 + 100)
    expect(await balance(viewers[1])).toBe(100 + 12 + 100)
  })

  test('5 boosts at once with different keys: one is paid, the others are 409', async () => {
    const host = await person('Hasty')
    await grant(host.userId, 2000)
    const sessionId = await createSession(host)
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        post(
          host,
          `/api/sessions/${sessionId}/boost`,
          undefined,
          crypto.randomUUID(),
        ),
      ),
    )
    expect(answers.map((r) => r.status).sort()).toEqual([
      200, 409, 409, 409, 409,
    ])
    expect(await balance(host)).toBe(1600)
  })

  test('ending a session, boosting it and tipping in it at the same time neither deadlocks nor fails', async () => {
    // Tips that name a session reference its row (a foreign key takes a KEY SHARE lock on it) while
    // holding both users' rows; ending and boosting lock the session row, then users' rows.
    const host = await person('Busy')
    const fans = await Promise.all([
      person('Fan'),
      person('Fon'),
      person('Fin'),
    ])
    await grant(host.userId, 5000)
    for (const fan of fans) await grant(fan.userId, 5000)
    for (let round = 0; round < 4; round++) {
      const sessionId = await createSession(host)
      const { roomId, t0 } = await sessionStartedAgo(sessionId, 35)
      for (const [i, fan] of fans.entries())
        await stack.workers.deliverWebhook(
          JSON.stringify(
            peerLeave(
              roomId,
              `${sessionId}-${i}`,
              fan.userId,
              t0,
              t0 + 20 * MINUTE,
            ),
          ),
        )
      const answers = await Promise.all([
        post(host, `/api/sessions/${sessionId}/boost`),
        ...fans.flatMap((fan) => [
          post(fan, '/api/credits/tip', {
            recipientId: host.userId,
            amount: 3,
            sessionId,
          }),
          post(host, '/api/credits/tip', {
            recipientId: fan.userId,
            amount: 2,
            sessionId,
          }),
        ]),
        post(host, `/api/sessions/${sessionId}/end`),
      ])
      const statuses = answers.map((r) => r.status)
      // What the Worker logged for a 500 says why (e.g. "deadlock detected").
      const causes = stack.workers
        .logs()
        .filter((l) => l.includes('"level":"error"'))
        .map((l) => /\(cause: ([^)]*)\)/.exec(l)?.[1] ?? 'see the logs')
      expect(
        statuses.filter((s) => s >= 500),
        `${JSON.stringify(statuses)}: ${[...new Set(causes)].join(', ')}`,
      ).toEqual([])
    }
  })
})

describe.skipIf(!realPostgres)(
  'a storm of 2,000 tips, boosts and settlements',
  () => {
    test('leaves every balance equal to its ledger, none negative, nothing paid twice', async () => {
      const started = Date.now()
      const USERS = 20
      const CLIENTS = 50
      const TIPS = 2_000
      const random = seeded(20_260_501)

      const users: TestClient[] = []
      for (let i = 0; i < USERS; i += 5)
        users.push(
          ...(await Promise.all(
            Array.from({ length: 5 }, (_, j) => person(`Storm${i + j}`)),
          )),
        )
      // Everyone starts with 100 (welcome) + 1,000: the first through the operator's script, the
      // others the same way in SQL (the script's start-up is a second each on this machine).
      const [first] = await stack.database.query<{ username: string }>(
        'SELECT username FROM users WHERE id = $1',
        [users[0]!.userId],
      )
      const adjusted = await runNpmScript(stack.database, 'credits:adjust', [
        '--user',
        first!.username,
        '--amount',
        '1000',
        '--reason',
        'storm test float',
      ])
      expect(adjusted.code, adjusted.stderr).toBe(0)
      for (const user of users.slice(1)) await grant(user.userId, 1000)
      const startBalance = 1100

      // Six hosts, each with a session that started 40 minutes ago and viewers in it.
      const hosts = users.slice(0, 6)
      const sessions = await Promise.all(
        hosts.map(async (host) => {
          const id = await createSession(host)
          return { id, host, ...(await sessionStartedAgo(id, 40)) }
        }),
      )

      type Op =
        | {
            kind: 'tip'
            sender: number
            body: Record<string, unknown>
            key?: string
          }
        | { kind: 'boost'; host: number; sessionId: string; key: string }
        | { kind: 'end'; host: number; sessionId: string }
        | { kind: 'webhook'; event: unknown }
      const ops: Op[] = []
      const retried: Op[] = []
      const pick = (n: number) => Math.floor(random() * n)
      let peer = 0
      const watch = (s: (typeof sessions)[number], userIndex: number) => {
        const from = s.t0 + pick(30) * MINUTE + pick(MINUTE)
        return {
          kind: 'webhook' as const,
          event: peerLeave(
            s.roomId,
            `${s.id}-p${++peer}`,
            users[userIndex]!.userId,
            from,
            from + (1 + pick(25)) * MINUTE,
          ),
        }
      }
      for (let i = 0; i < TIPS; i++) {
        const sender = pick(USERS)
        // 1 in 20 to oneself (400), the rest to someone else, now and then naming a session.
        const recipient =
          random() < 0.05 ? sender : (sender + 1 + pick(USERS - 1)) % USERS
        const body: Record<string, unknown> = {
          recipientId: users[recipient]!.userId,
          amount: 1 + pick(random() < 0.1 ? 2_000 : 120),
        }
        if (random() < 0.15)
          body.sessionId = sessions[pick(sessions.length)]!.id
        const op: Op = {
          kind: 'tip',
          sender,
          body,
          key: random() < 0.8 ? crypto.randomUUID() : undefined,
        }
        ops.push(op)
        // 1 in 10 is retried with its key: at once (a double click) or later (a lost answer).
        if (op.key && random() < 0.1) {
          if (random() < 0.5) ops.push({ ...op })
          else retried.push({ ...op })
        }
        if (i % 20 === 0) {
          const s = sessions[pick(sessions.length)]!
          ops.push(watch(s, pick(USERS)))
        }
      }
      for (const [h, s] of sessions.entries()) {
        // Each host boosts three times (different keys, one retried); one boost can be paid.
        for (let b = 0; b < 3; b++) {
          const op: Op = {
            kind: 'boost',
            host: h,
            sessionId: s.id,
            key: crypto.randomUUID(),
          }
          ops.splice(pick(ops.length), 0, op)
          if (b === 0) retried.push({ ...op })
        }
        // Ended three times at once somewhere in the second half of the storm.
        const at = Math.floor(ops.length / 2) + pick(Math.floor(ops.length / 2))
        ops.splice(
          at,
          0,
          ...Array.from({ length: 3 }, () => ({
            kind: 'end' as const,
            host: h,
            sessionId: s.id,
          })),
        )
      }
      ops.push(...retried)
      // Late webhooks, and replays of earlier ones (same event ids), once sessions may have ended.
      for (const s of sessions) ops.push(watch(s, pick(USERS)))
      ops.push(...ops.filter((op) => op.kind === 'webhook').slice(0, 10))

      interface Answer {
        op: Op
        status: number
        body: unknown
      }
      const answers: Answer[] = []
      let nextOp = 0
      // Every answer must be one the API promises: no 5xx (a deadlock or a constraint would be one).
      const isExpected = ({ op, status }: Answer) =>
        ({
          tip: [201, 400, 402],
          boost: [200, 402, 409, 410],
          end: [200],
          webhook: [200],
        })[op.kind].includes(status)
      let failures = 0
      const client = async () => {
        for (;;) {
          // A broken build fails fast rather than grinding through every deadlock timeout.
          if (failures > 20) return
          const op = ops[nextOp++]
          if (!op) return
          let response: Response
          switch (op.kind) {
            case 'tip':
              response = await post(
                users[op.sender]!,
                '/api/credits/tip',
                op.body,
                op.key,
              )
              break
            case 'boost':
              response = await post(
                users[op.host]!,
                `/api/sessions/${op.sessionId}/boost`,
                undefined,
                op.key,
              )
              break
            case 'end':
              response = await post(
                users[op.host]!,
                `/api/sessions/${op.sessionId}/end`,
              )
              break
            case 'webhook':
              response = await stack.workers.deliverWebhook(
                JSON.stringify(op.event),
              )
              break
          }
          const text = await response.text()
          const answer = {
            op,
            status: response.status,
            body: text ? JSON.parse(text) : null,
          }
          answers.push(answer)
          if (!isExpected(answer)) failures += 1
        }
      }
      await Promise.all(Array.from({ length: CLIENTS }, client))
      const stormSeconds = (Date.now() - started) / 1000

      const unexpected = answers.filter((a) => !isExpected(a))
      const causes = stack.workers
        .logs()
        .filter((l) => l.includes('"level":"error"'))
        .map((l) => /\(cause: ([^)]*)\)/.exec(l)?.[1] ?? 'see the logs')
      expect(
        unexpected.slice(0, 3),
        `${unexpected.length} unexpected answers (${[...new Set(causes)].join(', ')})`,
      ).toEqual([])
      expect(
        answers.filter((a) => a.op.kind === 'tip' && a.status === 201).length,
      ).toBeGreaterThan(1_000)

      // The operator's audit, as a child process on the test database: nothing to report.
      const audit = await runNpmScript(stack.database, 'credits:audit')
      expect(audit.code, audit.stdout + audit.stderr).toBe(0)
      expect(audit.stdout).toMatch(/every balance and chain matches the ledger/)

      const [totals] = await stack.database.query<{
        balances: number
        credited: number
        debited: number
        negative: number
        sent: number
        received: number
      }>(
        `SELECT (SELECT sum(credits)::int FROM users) AS balances,
        (SELECT sum(amount) FILTER (WHERE amount > 0)::int FROM credit_transactions) AS credited,
        (SELECT -sum(amount) FILTER (WHERE amount < 0)::int FROM credit_transactions) AS debited,
        (SELECT count(*)::int FROM users WHERE credits < 0) +
          (SELECT count(*)::int FROM credit_transactions WHERE balance_after < 0) AS negative,
        (SELECT -sum(amount)::int FROM credit_transactions WHERE type = 'tip_sent') AS sent,
        (SELECT sum(amount)::int FROM credit_transactions WHERE type = 'tip_received') AS received`,
      )
      expect(totals!.negative).toBe(0)
      expect(totals!.balances).toBe(totals!.credited - totals!.debited)
      expect(totals!.sent).toBe(totals!.received)
      expect(
        await stack.database.query(
          `SELECT user_id, idempotency_key FROM credit_transactions
         GROUP BY user_id, idempotency_key HAVING count(*) > 1`,
        ),
      ).toEqual([])

      // What the clients were told adds up to what the ledger says, key by key and user by user.
      const tipRows = await stack.database.query<{
        user_id: string
        counterparty_id: string
        amount: number
        idempotency_key: string
        session_id: string | null
      }>(
        `SELECT user_id, counterparty_id, amount, idempotency_key, session_id
       FROM credit_transactions WHERE type = 'tip_sent' AND user_id = ANY($1)`,
        [users.map((u) => u.userId)],
      )
      const sentByKey = new Map(tipRows.map((r) => [r.idempotency_key, r]))
      const keyed = new Map<string, Answer[]>()
      for (const answer of answers)
        if (answer.op.kind === 'tip' && answer.op.key) {
          const k = `tip:${users[answer.op.sender]!.userId}:${answer.op.key}`
          keyed.set(k, [...(keyed.get(k) ?? []), answer])
        }
      let paidTips = 0
      for (const [key, tries] of keyed) {
        const paid = tries.filter((t) => t.status === 201)
        const row = sentByKey.get(key)
        if (paid.length === 0) {
          expect(row, `${key} was refused yet paid`).toBeUndefined()
          continue
        }
        paidTips += 1
        for (const t of paid) expect(t.body).toEqual(paid[0]!.body)
        const op = tries[0]!.op as Extract<Op, { kind: 'tip' }>
        expect(row).toMatchObject({
          amount: -(op.body.amount as number),
          counterparty_id: op.body.recipientId,
          session_id: op.body.sessionId ?? null,
        })
      }
      const unkeyedPaid = answers.filter(
        (a) => a.op.kind === 'tip' && !a.op.key && a.status === 201,
      ).length
      expect(tipRows).toHaveLength(paidTips + unkeyedPaid)

      const expected = new Map(users.map((u) => [u.userId, startBalance]))
      const add = (userId: string, amount: number) =>
        expected.set(userId, expected.get(userId)! + amount)
      const paidKeys = new Set<string>()
      for (const { op, status } of answers) {
        if (op.kind === 'tip' && status === 201) {
          const key = op.key && `${op.sender}:${op.key}`
          if (key && paidKeys.has(key)) continue
          if (key) paidKeys.add(key)
          add(users[op.sender]!.userId, -(op.body.amount as number))
          add(op.body.recipientId as string, op.body.amount as number)
        }
        if (op.kind === 'boost' && status === 200 && !paidKeys.has(op.key)) {
          paidKeys.add(op.key)
          add(users[op.host]!.userId, -500)
        }
      }
      // Earnings are the settlements' own rows (their amounts have tests of their own).
      for (const row of await stack.database.query<{
        user_id: string
        amount: number
      }>(
        "SELECT user_id, amount FROM credit_transactions WHERE type IN ('settlement_viewer', 'settlement_presenter', 'settlement_host', 'milestone') AND user_id = ANY($1)",
        [users.map((u) => u.userId)],
      ))
        add(row.user_id, row.amount)
      const actual = await stack.database.query<{
        id: string
        credits: number
      }>('SELECT id, credits FROM users WHERE id = ANY($1)', [
        users.map((u) => u.userId),
      ])
      expect(new Map(actual.map((r) => [r.id, r.credits]))).toEqual(expected)

      // Each session settled once and boosted at most once.
      const perSession = await stack.database.query<{
        settled: number
        boosts: number
        status: string
      }>(
        `SELECT s.status,
        (SELECT count(*)::int FROM session_settlements x WHERE x.session_id = s.id) AS settled,
        (SELECT count(*)::int FROM credit_transactions t WHERE t.session_id = s.id AND t.type = 'boost') AS boosts
       FROM live_sessions s WHERE s.id = ANY($1)`,
        [sessions.map((s) => s.id)],
      )
      for (const s of perSession) {
        expect(s).toMatchObject({ status: 'ended', settled: 1 })
        expect(s.boosts).toBeLessThanOrEqual(1)
      }
      console.log(
        `credits storm: ${answers.length} requests from ${CLIENTS} clients in ${stormSeconds.toFixed(1)} s ` +
          `(${answers.filter((a) => a.op.kind === 'tip' && a.status === 201).length} tips paid, ` +
          `${answers.filter((a) => a.status === 402).length} refused as short), ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
      )
    }, 120_000)
  },
)

/** A small deterministic generator (mulberry32), so a failing storm can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
