import { and, eq, sql, type SQL } from 'drizzle-orm'
import { queryRows, type Db, type Tx } from '../db/client.server'
import {
  creditTransactions,
  idempotentResponses,
  liveSessions,
  users,
  type CREDIT_TYPES,
} from '../db/schema'
import { DomainError } from '../utils/errors'
import { isUuid } from '../utils/ids'
import {
  coveredMinutes,
  CREDIT_RULES,
  hostEarning,
  MILESTONES,
  reachedMilestones,
  watcherEarning,
  type ActivityStats,
} from './credit-rules'

/**
 * The credits ledger (SPEC §3): every rule about credits lives here. Every change of a balance is
 * `applyCredit` inside a transaction that has locked the user's row: the balance moves, the chain
 * position advances, and one ledger row records both, keyed so that no event is paid twice.
 */

export type CreditType = (typeof CREDIT_TYPES)[number]

export interface CreditChange {
  userId: string
  amount: number
  type: CreditType
  key: string
  sessionId?: string | null
  counterpartyId?: string | null
  metadata?: Record<string, unknown>
}

export type CreditOutcome =
  | { status: 'applied'; balanceAfter: number; seq: number }
  | { status: 'duplicate' }
  | { status: 'insufficient'; balance: number }

/**
 * Locks the rows of `userIds` in one order (by id), so transactions that touch several users (a
 * tip, a settlement) never wait on each other in a cycle. NO KEY UPDATE, not UPDATE: the balance
 * changes, the id never does, so the key-share locks that inserting rows which reference a user
 * takes (a ledger row, an idempotency record) do not conflict with it and cannot deadlock.
 * Returns the ids that exist and are not deleted.
 */
export async function lockUsers(
  tx: Tx,
  userIds: string[],
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set()
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`select id from users where id in ${[...new Set(userIds)]}
        and deleted_at is null order by id for no key update`,
  )
  return new Set(rows.map((r) => r.id))
}

/**
 * One change to one balance, inside a transaction that already holds the user's row lock
 * (`lockUsers`). A key the user was already paid for changes nothing; a debit larger than the
 * balance changes nothing and says so. The CHECK and UNIQUE constraints back every rule here.
 */
export async function applyCredit(
  tx: Tx,
  change: CreditChange,
): Promise<CreditOutcome> {
  const [already] = await tx
    .select({ id: creditTransactions.id })
    .from(creditTransactions)
    .where(
      and(
        eq(creditTransactions.userId, change.userId),
        eq(creditTransactions.idempotencyKey, change.key),
      ),
    )
  if (already) return { status: 'duplicate' }
  const [moved] = await tx
    .update(users)
    .set({
      credits: sql`${users.credits} + ${change.amount}`,
      creditSeq: sql`${users.creditSeq} + 1`,
    })
    .where(
      and(
        eq(users.id, change.userId),
        sql`${users.credits} + ${change.amount} >= 0`,
      ),
    )
    .returning({ balance: users.credits, seq: users.creditSeq })
  if (!moved) {
    const [user] = await tx
      .select({ balance: users.credits })
      .from(users)
      .where(eq(users.id, change.userId))
    return { status: 'insufficient', balance: user?.balance ?? 0 }
  }
  await tx.insert(creditTransactions).values({
    userId: change.userId,
    seq: moved.seq,
    amount: change.amount,
    balanceAfter: moved.balance,
    type: change.type,
    sessionId: change.sessionId ?? null,
    counterpartyId: change.counterpartyId ?? null,
    idempotencyKey: change.key,
    metadata: change.metadata ?? {},
  })
  return { status: 'applied', balanceAfter: moved.balance, seq: moved.seq }
}

/** The welcome bonus, once per account, when it completes its profile. */
export async function payWelcomeBonus(tx: Tx, userId: string): Promise<void> {
  await lockUsers(tx, [userId])
  await applyCredit(tx, {
    userId,
    amount: CREDIT_RULES.welcomeBonus,
    type: 'bonus_welcome',
    key: `welcome:${userId}`,
  })
}

interface IntervalRow {
  user_id: string
  joined_at: string | Date
  left_at: string | Date
}

/**
 * Pays a session's watchers and host from the intervals the webhooks recorded (never from client
 * heartbeats), then awards the milestones the pay reached. Runs once per session, inside the
 * transaction that ends it (settleSession). One ledger row per person and role, with the
 * computation in its metadata.
 */
export async function paySession(
  tx: Tx,
  session: {
    id: string
    hostId: string
    createdAt: Date
    endedAt: Date | null
  },
): Promise<void> {
  const from = session.createdAt.getTime()
  const to = (session.endedAt ?? new Date()).getTime()
  const intervals = await queryRows<IntervalRow>(
    tx,
    sql`select user_id, joined_at, coalesce(left_at, ${new Date(to)}::timestamptz) as left_at
        from peer_intervals
        where session_id = ${session.id} and user_id is not null and joined_at is not null`,
  )
  const roles = new Map(
    (
      await queryRows<{ user_id: string; role: string }>(
        tx,
        sql`select user_id, role from session_participants where session_id = ${session.id}`,
      )
    ).map((r) => [r.user_id, r.role]),
  )
  const byUser = new Map<string, Array<[number, number]>>()
  for (const row of intervals) {
    const list = byUser.get(row.user_id) ?? []
    list.push([
      new Date(row.joined_at).getTime(),
      new Date(row.left_at).getTime(),
    ])
    byUser.set(row.user_id, list)
  }
  const minutes = new Map(
    [...byUser].map(([userId, list]) => [
      userId,
      coveredMinutes(list, from, to),
    ]),
  )
  const changes: CreditChange[] = []
  let viewerMinutes = 0
  for (const [userId, watched] of minutes) {
    if (userId === session.hostId) continue
    const role = roles.get(userId) === 'presenter' ? 'presenter' : 'viewer'
    if (role === 'viewer') viewerMinutes += watched
    const earning = watcherEarning(watched, role)
    if (earning.amount > 0)
      changes.push({
        userId,
        amount: earning.amount,
        type:
          role === 'presenter' ? 'settlement_presenter' : 'settlement_viewer',
        key: `settle:${session.id}:${userId}:${role}`,
        sessionId: session.id,
        metadata: earning.metadata,
      })
  }
  const host = hostEarning({
    hostedMinutes: minutes.get(session.hostId) ?? 0,
    viewerMinutes,
    sessionMinutes: (to - from) / 60_000,
  })
  if (host.amount > 0)
    changes.push({
      userId: session.hostId,
      amount: host.amount,
      type: 'settlement_host',
      key: `settle:${session.id}:${session.hostId}:host`,
      sessionId: session.id,
      metadata: host.metadata,
    })
  const payable = await lockUsers(
    tx,
    changes.map((c) => c.userId),
  )
  const paid: string[] = []
  for (const change of changes) {
    if (!payable.has(change.userId)) continue
    const outcome = await applyCredit(tx, change)
    if (outcome.status === 'applied') paid.push(change.userId)
  }
  for (const userId of paid) await awardMilestones(tx, userId)
}

/** What a user has watched and hosted, from their settlement rows: one row of ActivityStats. */
function activityStatsQuery(userId: string): SQL {
  return sql`select
      count(*) filter (where type in ('settlement_viewer', 'settlement_presenter'))::int as "sessionsWatched",
      coalesce(sum((metadata->>'minutes')::int) filter (where type in ('settlement_viewer', 'settlement_presenter')), 0)::int as "minutesWatched",
      count(*) filter (where type = 'settlement_host')::int as "sessionsHosted",
      coalesce(sum((metadata->>'minutes')::int) filter (where type = 'settlement_host'), 0)::int as "minutesHosted"
    from credit_transactions where user_id = ${userId}`
}

async function activityStats(
  db: Db | Tx,
  userId: string,
): Promise<ActivityStats> {
  const [row] = await queryRows<ActivityStats>(db, activityStatsQuery(userId))
  return row ?? NO_ACTIVITY
}

const NO_ACTIVITY: ActivityStats = {
  sessionsWatched: 0,
  minutesWatched: 0,
  sessionsHosted: 0,
  minutesHosted: 0,
}

/** Awards every milestone the user has reached and not yet been paid for (the key makes it once). */
async function awardMilestones(tx: Tx, userId: string): Promise<void> {
  for (const milestone of reachedMilestones(await activityStats(tx, userId))) {
    await applyCredit(tx, {
      userId,
      amount: milestone.bonus,
      type: 'milestone',
      key: `milestone:${userId}:${milestone.name}`,
      metadata: { name: milestone.name, label: milestone.label },
    })
  }
}

export interface IdempotentAnswer<T> {
  status: number
  body: T
}

/**
 * Runs `pay` at most once per (user, Idempotency-Key): the first answer is stored in the same
 * transaction and a retry, even a concurrent one (it waits on the key's row), gets it back.
 * Without a key, `pay` just runs.
 */
async function once<T>(
  db: Db,
  userId: string,
  key: string | null,
  request: unknown,
  pay: (tx: Tx) => Promise<IdempotentAnswer<T>>,
): Promise<IdempotentAnswer<T>> {
  // The same key with a different request is a client bug: refuse it rather than replay blindly.
  const fingerprint = JSON.stringify(request)
  return db.transaction(async (tx) => {
    if (key) {
      const claimed = await tx
        .insert(idempotentResponses)
        .values({ userId, key, fingerprint, status: 0, body: {} })
        .onConflictDoNothing()
        .returning({ key: idempotentResponses.key })
      if (claimed.length === 0) {
        const [stored] = await tx
          .select()
          .from(idempotentResponses)
          .where(
            and(
              eq(idempotentResponses.userId, userId),
              eq(idempotentResponses.key, key),
            ),
          )
        if (stored!.fingerprint !== fingerprint)
          throw new DomainError(
            'idempotency_key_reused',
            'This Idempotency-Key was already used for a different request. Use a new key.',
            422,
          )
        return { status: stored!.status, body: stored!.body as T }
      }
    }
    const answer = await pay(tx)
    if (key)
      await tx
        .update(idempotentResponses)
        .set({ status: answer.status, body: answer.body as object })
        .where(
          and(
            eq(idempotentResponses.userId, userId),
            eq(idempotentResponses.key, key),
          ),
        )
    return answer
  })
}

/**
 * Whether a tip (or boost) with this Idempotency-Key was already answered: a retry of a paid request
 * is answered again even after its limiter budget is spent, since it pays nothing.
 */
export async function wasAnswered(
  db: Db,
  userId: string,
  scope: 'tip' | 'boost',
  key: string | null,
): Promise<boolean> {
  if (!key) return false
  const [row] = await db
    .select({ status: idempotentResponses.status })
    .from(idempotentResponses)
    .where(
      and(
        eq(idempotentResponses.userId, userId),
        eq(idempotentResponses.key, `${scope}:${key}`),
      ),
    )
  return row !== undefined && row.status !== 0
}

/** How long a retry with the same Idempotency-Key is answered from the stored response. */
export const IDEMPOTENCY_RETENTION_DAYS = 7

/**
 * Deletes stored answers older than the retention window (a scheduled job). The ledger's own
 * unique keys still refuse paying twice after that; only the replayed answer is gone.
 */
export async function pruneIdempotencyRecords(
  db: Db,
  olderThanDays = IDEMPOTENCY_RETENTION_DAYS,
): Promise<number> {
  const deleted = await db
    .delete(idempotentResponses)
    .where(
      sql`${idempotentResponses.createdAt} < now() - make_interval(days => ${olderThanDays})`,
    )
    .returning({ key: idempotentResponses.key })
  return deleted.length
}

export interface TipInput {
  recipientId: string
  amount: number
  message?: string
  sessionId?: string
}

export interface TipResult {
  tip: {
    recipientId: string
    amount: number
    message: string | null
    sessionId: string | null
  }
  balance: number
}

/**
 * Moves `amount` credits from `sender` to the recipient, both ledger rows in one transaction. A
 * retry with the same Idempotency-Key pays once and answers what the first request answered.
 */
export async function tip(
  db: Db,
  sender: { id: string },
  input: TipInput,
  idempotencyKey: string | null,
): Promise<IdempotentAnswer<TipResult>> {
  if (input.recipientId === sender.id)
    throw new DomainError('self_tip', 'You cannot tip yourself.', 400, {
      recipientId: 'Choose someone other than yourself.',
    })
  const key = `tip:${sender.id}:${idempotencyKey ?? crypto.randomUUID()}`
  return once(
    db,
    sender.id,
    idempotencyKey && `tip:${idempotencyKey}`,
    input,
    async (tx) => {
      const present = await lockUsers(tx, [sender.id, input.recipientId])
      if (!present.has(input.recipientId))
        throw new DomainError(
          'recipient_not_found',
          'There is no such person to tip.',
          404,
          {
            recipientId: 'There is no such person.',
          },
        )
      if (input.sessionId) {
        // A tip "in a session" goes to someone who is in it (its host, usually).
        const [found] = await queryRows<{ in_session: boolean }>(
          tx,
          sql`select exists (select 1 from session_participants
                where session_id = s.id and user_id = ${input.recipientId}) as in_session
              from live_sessions s where s.id = ${input.sessionId}`,
        )
        if (!found)
          throw new DomainError('not_found', 'There is no such session.', 404, {
            sessionId: 'There is no such session.',
          })
        if (!found.in_session)
          throw new DomainError(
            'not_in_session',
            'That person is not in this session.',
            400,
            { sessionId: 'That person is not in this session.' },
          )
      }
      const metadata = input.message ? { message: input.message } : {}
      const debit = await applyCredit(tx, {
        userId: sender.id,
        amount: -input.amount,
        type: 'tip_sent',
        key,
        sessionId: input.sessionId,
        counterpartyId: input.recipientId,
        metadata,
      })
      if (debit.status === 'insufficient')
        throw new DomainError(
          'insufficient_credits',
          `Not enough credits: you have ${debit.balance}.`,
          402,
          { amount: `Not enough credits: you have ${debit.balance}.` },
        )
      if (debit.status !== 'applied')
        throw new Error('a fresh tip key was already used')
      await applyCredit(tx, {
        userId: input.recipientId,
        amount: input.amount,
        type: 'tip_received',
        key,
        sessionId: input.sessionId,
        counterpartyId: sender.id,
        metadata,
      })
      return {
        status: 201,
        body: {
          tip: {
            recipientId: input.recipientId,
            amount: input.amount,
            message: input.message ?? null,
            sessionId: input.sessionId ?? null,
          },
          balance: debit.balanceAfter,
        },
      }
    },
  )
}

export interface BoostResult {
  boostedUntil: string
  balance: number
}

/**
 * The host features a live session for 24 hours for 500 credits; not while a boost is active
 * (409), not when short (402). The session row is locked, so two boosts cannot both start.
 */
export async function boostSession(
  db: Db,
  host: { id: string },
  sessionId: string,
  idempotencyKey: string | null,
): Promise<IdempotentAnswer<BoostResult>> {
  return once(
    db,
    host.id,
    idempotencyKey && `boost:${idempotencyKey}`,
    { sessionId },
    async (tx) => {
      if (!isUuid(sessionId))
        throw new DomainError('not_found', 'There is no such session.', 404)
      const [session] = await queryRows<{
        host_id: string
        status: string
        boosted_until: string | Date | null
        active: boolean
        boosts: number
      }>(
        tx,
        sql`select host_id, status, boosted_until,
            coalesce(boosted_until > now(), false) as active,
            (select count(*)::int from credit_transactions
             where session_id = ${sessionId} and type = 'boost') as boosts
          from live_sessions where id = ${sessionId} for no key update`,
      )
      if (!session)
        throw new DomainError('not_found', 'There is no such session.', 404)
      if (session.host_id !== host.id)
        throw new DomainError(
          'not_host',
          'Only the host can boost this session.',
          403,
        )
      if (session.status !== 'live')
        throw new DomainError('session_ended', 'This session has ended.', 410)
      if (session.active)
        throw new DomainError(
          'already_boosted',
          'This session is already boosted; boost again when it ends.',
          409,
        )
      await lockUsers(tx, [host.id])
      const debit = await applyCredit(tx, {
        userId: host.id,
        amount: -CREDIT_RULES.boostCost,
        type: 'boost',
        key: `boost:${sessionId}:${session.boosts + 1}`,
        sessionId,
        metadata: { hours: CREDIT_RULES.boostHours },
      })
      if (debit.status === 'insufficient')
        throw new DomainError(
          'insufficient_credits',
          `A boost costs ${CREDIT_RULES.boostCost} credits; you have ${debit.balance}.`,
          402,
        )
      if (debit.status !== 'applied') throw new Error('boost key reused')
      const [updated] = await tx
        .update(liveSessions)
        .set({
          boostedUntil: sql`now() + make_interval(hours => ${CREDIT_RULES.boostHours})`,
        })
        .where(eq(liveSessions.id, sessionId))
        .returning({ boostedUntil: liveSessions.boostedUntil })
      return {
        status: 200,
        body: {
          boostedUntil: updated!.boostedUntil!.toISOString(),
          balance: debit.balanceAfter,
        },
      }
    },
  )
}

/**
 * An operator's correction (`npm run credits:adjust`), with a reason, as an `admin_adjustment`
 * row; refused when it would take the balance below 0.
 */
export async function adjustCredits(
  db: Db,
  {
    userId,
    amount,
    reason,
  }: { userId: string; amount: number; reason: string },
): Promise<{ balance: number }> {
  return db.transaction(async (tx) => {
    const present = await lockUsers(tx, [userId])
    if (!present.has(userId))
      throw new DomainError('not_found', 'There is no such user.', 404)
    const outcome = await applyCredit(tx, {
      userId,
      amount,
      type: 'admin_adjustment',
      key: `admin:${crypto.randomUUID()}`,
      metadata: { reason },
    })
    if (outcome.status === 'insufficient')
      throw new DomainError(
        'insufficient_credits',
        `That would take the balance below 0 (it is ${outcome.balance}).`,
        400,
      )
    if (outcome.status !== 'applied') throw new Error('admin key reused')
    return { balance: outcome.balanceAfter }
  })
}

// Reading. Each read is a query fragment and a function that shapes its rows, so that the /credits
// page can ask them all in a single statement (creditsOverview) and the JSON API routes one alone
// (getBalance, listTransactions, leaderboard), with the same SQL and the same shaping.

export interface Balance {
  balance: number
  totalEarned: number
  totalSpent: number
}

const NO_BALANCE: Balance = { balance: 0, totalEarned: 0, totalSpent: 0 }

function balanceQuery(userId: string): SQL {
  return sql`select u.credits as balance,
          coalesce((select sum(amount) from credit_transactions where user_id = u.id and amount > 0), 0)::int as "totalEarned",
          coalesce((select -sum(amount) from credit_transactions where user_id = u.id and amount < 0), 0)::int as "totalSpent"
        from users u where u.id = ${userId}`
}

export async function getBalance(db: Db, userId: string): Promise<Balance> {
  const [row] = await queryRows<Balance>(db, balanceQuery(userId))
  return row ?? NO_BALANCE
}

export interface LedgerEntry {
  id: string
  seq: number
  amount: number
  balanceAfter: number
  type: CreditType
  sessionId: string | null
  counterparty: string | null
  metadata: Record<string, unknown>
  createdAt: string
}

export interface HistoryQuery {
  type?: CreditType
  limit?: number
  cursor?: number
}

export interface HistoryPage {
  transactions: LedgerEntry[]
  nextCursor: number | null
}

interface LedgerRow {
  id: string
  seq: number
  amount: number
  balance_after: number
  type: CreditType
  session_id: string | null
  counterparty: string | null
  metadata: Record<string, unknown>
  // A Date from the driver, an ISO string from json.
  created_at: string | Date
}

const DEFAULT_PAGE_SIZE = 20

/** The page's rows, newest first, and one more to tell whether there is a next page. */
function historyQuery(
  userId: string,
  { type, limit = DEFAULT_PAGE_SIZE, cursor }: HistoryQuery,
): SQL {
  return sql`select t.id, t.seq, t.amount, t.balance_after, t.type, t.session_id,
          coalesce(u.display_name, u.username) as counterparty, t.metadata, t.created_at
        from credit_transactions t left join users u on u.id = t.counterparty_id
        where t.user_id = ${userId}
          ${type ? sql`and t.type = ${type}` : sql``}
          ${cursor ? sql`and t.seq < ${cursor}` : sql``}
        order by t.seq desc limit ${limit + 1}`
}

function historyPage(
  rows: LedgerRow[],
  { limit = DEFAULT_PAGE_SIZE }: HistoryQuery,
): HistoryPage {
  const page = rows.slice(0, limit)
  return {
    transactions: page.map((r) => ({
      id: r.id,
      seq: r.seq,
      amount: r.amount,
      balanceAfter: r.balance_after,
      type: r.type,
      sessionId: r.session_id,
      counterparty: r.counterparty,
      metadata: r.metadata,
      createdAt: new Date(r.created_at).toISOString(),
    })),
    nextCursor: rows.length > limit ? page.at(-1)!.seq : null,
  }
}

/** A page of the user's ledger, newest first; the cursor is the `seq` to continue below. */
export async function listTransactions(
  db: Db,
  userId: string,
  query: HistoryQuery,
): Promise<HistoryPage> {
  const rows = await queryRows<LedgerRow>(db, historyQuery(userId, query))
  return historyPage(rows, query)
}

export interface DailyTotals {
  day: string
  earned: number
  spent: number
}

/** Earned and spent per UTC day for the last `days` days, oldest first, days without rows as 0. */
function dailyTotalsQuery(userId: string, days: number): SQL {
  return sql`select to_char(d.day, 'YYYY-MM-DD') as day,
          coalesce(sum(t.amount) filter (where t.amount > 0), 0)::int as earned,
          coalesce(-sum(t.amount) filter (where t.amount < 0), 0)::int as spent
        from generate_series(
          (now() at time zone 'utc')::date - ${days - 1}::int,
          (now() at time zone 'utc')::date, interval '1 day') as d(day)
        left join credit_transactions t
          on t.user_id = ${userId}
          and t.created_at >= ((now() at time zone 'utc')::date - ${days - 1}::int) at time zone 'utc'
          and (t.created_at at time zone 'utc')::date = d.day
        group by d.day order by d.day`
}

export interface LeaderboardEntry {
  username: string
  displayName: string
  earned: number
}

type LeaderboardPeriod = 'all' | '7d'

/** Who earned most (all time or the last 7 days); tips received count, spending does not. */
function leaderboardQuery(period: LeaderboardPeriod, limit = 10): SQL {
  return sql`select u.username, u.display_name as "displayName", sum(t.amount)::int as earned
        from credit_transactions t join users u on u.id = t.user_id
        where t.amount > 0 and u.deleted_at is null and u.username is not null
          ${period === '7d' ? sql`and t.created_at > now() - interval '7 days'` : sql``}
        group by u.id order by earned desc, u.username limit ${limit}`
}

export async function leaderboard(
  db: Db,
  period: LeaderboardPeriod,
  limit = 10,
): Promise<LeaderboardEntry[]> {
  return queryRows<LeaderboardEntry>(db, leaderboardQuery(period, limit))
}

// Every /credits view and leaderboard poll asks the same question: an isolate answers it from
// memory for a few seconds (DESIGN "Scale") instead of aggregating the ledger each time.
const LEADERBOARD_CACHE_MS = 10_000
const leaderboardCache = new Map<
  LeaderboardPeriod,
  { expiresAt: number; leaders: LeaderboardEntry[] }
>()

function cachedLeaders(
  period: LeaderboardPeriod,
): LeaderboardEntry[] | undefined {
  const hit = leaderboardCache.get(period)
  return hit && hit.expiresAt > Date.now() ? hit.leaders : undefined
}

function rememberLeaders(
  period: LeaderboardPeriod,
  leaders: LeaderboardEntry[],
): LeaderboardEntry[] {
  leaderboardCache.set(period, {
    expiresAt: Date.now() + LEADERBOARD_CACHE_MS,
    leaders,
  })
  return leaders
}

/** `leaderboard`, computed at most once every LEADERBOARD_CACHE_MS per isolate and period. */
export async function cachedLeaderboard(
  db: Db,
  period: LeaderboardPeriod,
): Promise<LeaderboardEntry[]> {
  return (
    cachedLeaders(period) ??
    rememberLeaders(period, await leaderboard(db, period))
  )
}

export interface MilestoneProgress {
  name: string
  label: string
  bonus: number
  reached: boolean
  progress: number
  threshold: number
}

const milestoneKey = (userId: string, name: string) =>
  `milestone:${userId}:${name}`

/** The idempotency keys (`key`) of the milestones the user has been paid for. */
function paidMilestonesQuery(userId: string): SQL {
  return sql`select idempotency_key as key from credit_transactions
        where user_id = ${userId}
          and idempotency_key in ${MILESTONES.map((m) => milestoneKey(userId, m.name))}`
}

/** Every milestone with the user's progress towards it. */
function milestonesOf(
  userId: string,
  stats: ActivityStats,
  paidKeys: string[],
): MilestoneProgress[] {
  const paid = new Set(paidKeys)
  return MILESTONES.map((m) => ({
    name: m.name,
    label: m.label,
    bonus: m.bonus,
    reached: paid.has(milestoneKey(userId, m.name)),
    progress: Math.min(stats[m.kind], m.threshold),
    threshold: m.threshold,
  }))
}

export interface CreditsOverview {
  balance: Balance
  history: HistoryPage
  days: DailyTotals[]
  milestones: MilestoneProgress[]
  leaders: { allTime: LeaderboardEntry[]; lastWeek: LeaderboardEntry[] }
}

/** `query`'s rows as one json array in `order` (a subquery's own order is not promised to survive json_agg), `[]` when none. */
const jsonRows = (query: SQL, order: SQL) =>
  sql`(select coalesce(json_agg(r ${order}), '[]'::json) from (${query}) r)`

/** `query`'s one row as a json object (null when there is none). */
const jsonRow = (query: SQL) => sql`(select to_json(r) from (${query}) r)`

/**
 * Everything the /credits page shows, in one statement (one database round trip): the balance and
 * totals, a page of the history, the last `days` days, the milestones and, unless this isolate has
 * them cached, both leaderboards. The parts are this module's query fragments, each shaped as
 * when it is read alone; json turns their timestamps into strings, which historyPage expects.
 */
export async function creditsOverview(
  db: Db,
  userId: string,
  { days, ...history }: HistoryQuery & { days: number },
): Promise<CreditsOverview> {
  // Read once: an entry that expires while the statement runs is still this request's answer.
  const cached = { all: cachedLeaders('all'), '7d': cachedLeaders('7d') }
  const leaders = (period: LeaderboardPeriod) =>
    cached[period]
      ? sql`null`
      : jsonRows(
          leaderboardQuery(period),
          sql`order by r.earned desc, r.username`,
        )
  const [row] = await queryRows<{
    balance: Balance | null
    history: LedgerRow[]
    days: DailyTotals[]
    stats: ActivityStats
    paid: string[]
    all_time: LeaderboardEntry[] | null
    last_week: LeaderboardEntry[] | null
  }>(
    db,
    sql`select
          ${jsonRow(balanceQuery(userId))} as balance,
          ${jsonRows(historyQuery(userId, history), sql`order by r.seq desc`)} as history,
          ${jsonRows(dailyTotalsQuery(userId, days), sql`order by r.day`)} as days,
          ${jsonRow(activityStatsQuery(userId))} as stats,
          (select coalesce(json_agg(r.key), '[]'::json) from (${paidMilestonesQuery(userId)}) r) as paid,
          ${leaders('all')} as all_time,
          ${leaders('7d')} as last_week`,
  )
  const answer = row!
  return {
    balance: answer.balance ?? NO_BALANCE,
    history: historyPage(answer.history, history),
    days: answer.days,
    milestones: milestonesOf(userId, answer.stats, answer.paid),
    leaders: {
      allTime: cached.all ?? rememberLeaders('all', answer.all_time!),
      lastWeek: cached['7d'] ?? rememberLeaders('7d', answer.last_week!),
    },
  }
}
