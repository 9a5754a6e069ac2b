import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Db, type Tx } from '../db/client.server'
import { isUniqueViolation } from '../db/errors'
import {
  liveSessions,
  orphanHmsRooms,
  sessionBans,
  sessionParticipants,
} from '../db/schema'
import type { Hms, HmsRole } from '../services/hms.server'
import { log } from '../services/monitoring.server'
import { DomainError, errorMessage } from '../utils/errors'
import { isUuid } from '../utils/ids'
import type { CreateSessionInput } from '../utils/validation'
import { settleSession } from './settlement.server'

export type LiveSession = typeof liveSessions.$inferSelect
export type ParticipantRole = HmsRole

// Words people can say out loud and type without asking how it is spelt.
const ROOM_CODE_WORDS = [
  'VIBE',
  'CODE',
  'SHIP',
  'HACK',
  'BUILD',
  'MAKE',
  'FORGE',
  'SPARK',
  'PIXEL',
  'BYTE',
  'LOOP',
  'STACK',
  'PATCH',
  'MERGE',
  'DEPLOY',
  'DEBUG',
] as const
// A–Z and 2–9 without the look-alikes I, O (0 and 1 are not used at all).
const ROOM_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
const ROOM_CODE_ATTEMPTS = 5

/**
 * Whether `text` could be a room code at all (any case). Anything else is no session, without a
 * query: a code is a path segment, and Postgres refuses some text outright (a NUL).
 */
export function looksLikeRoomCode(text: string): boolean {
  return /^[A-Za-z]{4,6}-[A-Za-z0-9]{4}$/.test(text)
}

/** `VIBE-2K4F`: a word from the list and 4 characters, uniformly random. */
export function generateRoomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(5))
  const word = ROOM_CODE_WORDS[bytes[0]! % ROOM_CODE_WORDS.length]!
  // 256 is a multiple of the alphabet's 32 letters: no modulo bias.
  const tail = [...bytes.slice(1)]
    .map((b) => ROOM_CODE_ALPHABET[b % ROOM_CODE_ALPHABET.length])
    .join('')
  return `${word}-${tail}`
}

/** 100ms room names allow lower case, digits and `-`; ours is the room code. */
export const hmsRoomName = (roomCode: string) => roomCode.toLowerCase()

/**
 * Creates a session for `host` (SPEC §2): the 100ms room first, then the session row and the host's
 * participant row in one transaction. If the row cannot be written the room is disabled again; if
 * even that fails, the room is recorded as an orphan for the clean-up job. A room code already
 * taken is retried with a fresh one.
 */
export async function createSession(
  db: Db,
  hms: Hms,
  host: { id: string },
  input: CreateSessionInput,
): Promise<LiveSession> {
  for (let attempt = 1; ; attempt++) {
    const roomCode = generateRoomCode()
    const taken = await db
      .select({ id: liveSessions.id })
      .from(liveSessions)
      .where(eq(liveSessions.roomCode, roomCode))
    if (taken.length > 0) continue
    const room = await hms.createRoom({
      name: hmsRoomName(roomCode),
      description: input.title,
    })
    try {
      return await db.transaction(async (tx) => {
        const [session] = await tx
          .insert(liveSessions)
          .values({
            roomCode,
            hmsRoomId: room.id,
            hostId: host.id,
            title: input.title,
            description: input.description,
            isPublic: input.isPublic,
            maxPresenters: input.maxPresenters,
          })
          .returning()
        await tx
          .insert(sessionParticipants)
          .values({ sessionId: session!.id, userId: host.id, role: 'host' })
        return session!
      })
    } catch (error) {
      await abandonRoom(db, hms, room.id, error)
      // Two creators drew the same code at once: the loser tries another.
      if (
        isUniqueViolation(error, 'live_sessions_room_code_key') &&
        attempt < ROOM_CODE_ATTEMPTS
      )
        continue
      throw error
    }
  }
}

/** Disables a room whose session row was never written; records it when 100ms cannot be reached. */
async function abandonRoom(
  db: Db,
  hms: Hms,
  hmsRoomId: string,
  cause: unknown,
): Promise<void> {
  try {
    await hms.disableRoom(hmsRoomId)
  } catch (error) {
    log('error', 'orphan 100ms room recorded for clean-up', {
      hmsRoomId,
      error: errorMessage(error),
    })
    await db
      .insert(orphanHmsRooms)
      .values({
        hmsRoomId,
        reason: cause instanceof Error ? cause.message.slice(0, 300) : 'error',
      })
      .onConflictDoNothing()
  }
}

export async function getSessionById(
  db: Db | Tx,
  id: string,
): Promise<LiveSession | null> {
  if (!isUuid(id)) return null
  const [session] = await db
    .select()
    .from(liveSessions)
    .where(eq(liveSessions.id, id))
  return session ?? null
}

export async function getSessionByCode(
  db: Db,
  roomCode: string,
): Promise<LiveSession | null> {
  if (!looksLikeRoomCode(roomCode)) return null
  const [session] = await db
    .select()
    .from(liveSessions)
    .where(eq(liveSessions.roomCode, roomCode.toUpperCase()))
  return session ?? null
}

/** The session as anyone may see it: no 100ms ids. */
export interface PublicSession {
  id: string
  isBoosted: boolean
  roomCode: string
  title: string
  description: string
  isPublic: boolean
  maxPresenters: number
  status: 'live' | 'ended'
  host: { username: string | null; displayName: string | null }
  liveViewers: number
  createdAt: string
  endedAt: string | null
}

/** A participant's role, or null when they have never asked to join. */
export async function getParticipantRole(
  db: Db | Tx,
  sessionId: string,
  userId: string,
): Promise<ParticipantRole | null> {
  const [row] = await db
    .select({ role: sessionParticipants.role })
    .from(sessionParticipants)
    .where(
      and(
        eq(sessionParticipants.sessionId, sessionId),
        eq(sessionParticipants.userId, userId),
      ),
    )
  return row?.role ?? null
}

/**
 * May `userId` see this session? Public sessions: anyone. Private ones: its participants, or whoever
 * holds the room code (the link is the invitation). Otherwise it does not exist for them (404).
 */
export async function requireVisibleSession(
  db: Db,
  sessionId: string,
  { userId, roomCode }: { userId: string | null; roomCode?: string },
): Promise<LiveSession> {
  const session = await getSessionById(db, sessionId)
  if (session) {
    if (session.isPublic) return session
    if (roomCode && roomCode.toUpperCase() === session.roomCode) return session
    if (userId && (await getParticipantRole(db, session.id, userId)))
      return session
  }
  throw new DomainError('not_found', 'There is no such session.', 404)
}

export interface JoinGrant {
  token: string
  role: ParticipantRole
  useHls: boolean
  hlsUrl: string | null
}

/**
 * What `user` gets to join a live session with: a 100ms token for the role the DATABASE holds
 * (host, presenter, or viewer for everyone else: whatever the client asked for is ignored). A first
 * join makes the user a viewer participant. Above `hlsThreshold` live viewers the server starts the
 * HLS stream, and viewers are sent to it once it runs.
 */
export async function joinSession(
  db: Db,
  hms: Hms,
  user: { id: string },
  session: LiveSession,
  { hlsThreshold }: { hlsThreshold: number },
): Promise<JoinGrant> {
  if (session.status !== 'live')
    throw new DomainError('session_ended', 'This session has ended.', 410)
  // A ban from the chat is a ban from the session (SPEC §2a).
  const [ban] = await db
    .select({ userId: sessionBans.userId })
    .from(sessionBans)
    .where(
      and(
        eq(sessionBans.sessionId, session.id),
        eq(sessionBans.userId, user.id),
      ),
    )
  if (ban)
    throw new DomainError(
      'banned',
      'You are banned from this session by its host.',
      403,
    )
  await db
    .insert(sessionParticipants)
    .values({ sessionId: session.id, userId: user.id, role: 'viewer' })
    .onConflictDoNothing()
  const role = (await getParticipantRole(db, session.id, user.id)) ?? 'viewer'
  const hls = await ensureHlsForAudience(db, hms, session, hlsThreshold)
  const useHls = role === 'viewer' && hls.status === 'running' && !!hls.url
  return {
    token: await hms.appToken({
      roomId: session.hmsRoomId,
      userId: user.id,
      role,
    }),
    role,
    useHls,
    hlsUrl: useHls ? hls.url : null,
  }
}

/**
 * Starts the HLS stream when the live audience reaches the threshold. Only the request that moves
 * `hls_status` from off to starting calls 100ms; the hls.* webhooks then record it running.
 */
async function ensureHlsForAudience(
  db: Db,
  hms: Hms,
  session: LiveSession,
  threshold: number,
): Promise<{ status: LiveSession['hlsStatus']; url: string | null }> {
  if (session.hlsStatus !== 'off')
    return { status: session.hlsStatus, url: session.hlsUrl }
  if ((await countLiveViewers(db, session.id)) < threshold)
    return { status: 'off', url: null }
  const claimed = await db
    .update(liveSessions)
    .set({ hlsStatus: 'starting' })
    .where(
      and(eq(liveSessions.id, session.id), eq(liveSessions.hlsStatus, 'off')),
    )
    .returning({ id: liveSessions.id })
  if (claimed.length === 0) return { status: 'starting', url: null }
  try {
    await hms.startLiveStream(session.hmsRoomId)
  } catch (error) {
    // Nobody is worse off: viewers keep joining over WebRTC; the next join tries again.
    await db
      .update(liveSessions)
      .set({ hlsStatus: 'off' })
      .where(
        and(
          eq(liveSessions.id, session.id),
          eq(liveSessions.hlsStatus, 'starting'),
        ),
      )
    log('error', 'HLS could not be started', {
      sessionId: session.id,
      error: errorMessage(error),
    })
  }
  return { status: 'starting', url: null }
}

/** Viewers present right now (open intervals), from the webhooks: an indexed count, no hot row. */
export async function countLiveViewers(
  db: Db | Tx,
  sessionId: string,
): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`
    select count(*)::int as n from peer_intervals
    where session_id = ${sessionId} and left_at is null and joined_at is not null
      and role = 'viewer'`,
  )
  return row?.n ?? 0
}

/**
 * The host promotes a participant to presenter or demotes one back to viewer. The session row is
 * locked while the presenters are counted, so concurrent promotions never exceed the maximum
 * (the host counts as one). The 100ms role of the user's live peers follows after the commit.
 */
export async function setPresenter(
  db: Db,
  hms: Hms,
  actor: { id: string },
  sessionId: string,
  { userId, action }: { userId: string; action: 'promote' | 'demote' },
): Promise<{
  userId: string
  role: ParticipantRole
  liveRoleUpdated: boolean
}> {
  const role: ParticipantRole = action === 'promote' ? 'presenter' : 'viewer'
  const session = await db.transaction(async (tx) => {
    const session = await lockSession(tx, sessionId)
    if (!session || session.hostId !== actor.id) throw notHost()
    if (session.status !== 'live')
      throw new DomainError('session_ended', 'This session has ended.', 410)
    const current = isUuid(userId)
      ? await getParticipantRole(tx, sessionId, userId)
      : null
    if (!current)
      throw new DomainError(
        'not_a_participant',
        'Only people who joined this session can be promoted.',
        404,
      )
    if (current === 'host')
      throw new DomainError(
        'host_role_fixed',
        'The host is always a presenter.',
        409,
      )
    if (current === role) return session
    if (action === 'promote') {
      const [row] = await queryRows<{ n: number }>(
        tx,
        sql`
        select count(*)::int as n from session_participants
        where session_id = ${sessionId} and role in ('host', 'presenter')`,
      )
      if ((row?.n ?? 0) >= session.maxPresenters)
        throw new DomainError(
          'presenters_full',
          `This session already has ${session.maxPresenters} presenters (the host included). Demote someone first.`,
          409,
        )
    }
    await tx
      .update(sessionParticipants)
      .set({ role })
      .where(
        and(
          eq(sessionParticipants.sessionId, sessionId),
          eq(sessionParticipants.userId, userId),
        ),
      )
    return session
  })
  let liveRoleUpdated = true
  try {
    const peers = await hms.listActivePeers(session.hmsRoomId)
    for (const peer of peers.filter((p) => p.userId === userId))
      await hms.changePeerRole(session.hmsRoomId, peer.peerId, role)
  } catch (error) {
    // The database decides the next token's role; a live peer keeps its old one until it rejoins.
    liveRoleUpdated = false
    log('warn', 'live 100ms role not changed', {
      sessionId,
      error: errorMessage(error),
    })
  }
  return { userId, role, liveRoleUpdated }
}

/**
 * The host starts or stops the HLS stream by hand (the server also starts it for big audiences).
 * Starting claims `off → starting` so only one call reaches 100ms; the hls.* webhooks then record it
 * running. Stopping turns it off at once, stamped now, so a late "started" event cannot revive it.
 */
export async function setHls(
  db: Db,
  hms: Hms,
  actor: { id: string },
  sessionId: string,
  action: 'start' | 'stop',
): Promise<{ hlsStatus: LiveSession['hlsStatus'] }> {
  const session = await getSessionById(db, sessionId)
  if (!session) throw notFound()
  if (session.hostId !== actor.id) throw notHost()
  if (session.status !== 'live')
    throw new DomainError('session_ended', 'This session has ended.', 410)
  if (action === 'start') {
    const claimed = await db
      .update(liveSessions)
      .set({ hlsStatus: 'starting' })
      .where(
        and(eq(liveSessions.id, sessionId), eq(liveSessions.hlsStatus, 'off')),
      )
      .returning({ id: liveSessions.id })
    if (claimed.length === 0) return { hlsStatus: session.hlsStatus }
    try {
      await hms.startLiveStream(session.hmsRoomId)
    } catch (error) {
      await db
        .update(liveSessions)
        .set({ hlsStatus: 'off' })
        .where(eq(liveSessions.id, sessionId))
      throw error
    }
    return { hlsStatus: 'starting' }
  }
  await hms.stopLiveStream(session.hmsRoomId)
  await db
    .update(liveSessions)
    .set({ hlsStatus: 'off', hlsUrl: null, hlsChangedAt: sql`now()` })
    .where(eq(liveSessions.id, sessionId))
  return { hlsStatus: 'off' }
}

async function lockSession(tx: Tx, sessionId: string) {
  if (!isUuid(sessionId)) return null
  const [session] = await tx
    .select()
    .from(liveSessions)
    .where(eq(liveSessions.id, sessionId))
    // NO KEY UPDATE: the session's status and counters change, never its id, so rows that merely
    // reference it (a tip's ledger row, a participant) are not blocked and cannot deadlock with us.
    .for('no key update')
  return session ?? null
}

function notHost() {
  return new DomainError(
    'not_host',
    'Only the host of this session can do that.',
    403,
  )
}

/**
 * Ends a live session: status `ended` and the settlement seam, in one transaction, exactly once
 * however often or concurrently it is called (a conditional update decides). The 100ms room is then
 * ended and disabled; if 100ms cannot be reached, the room-closing job finishes it later.
 */
export async function endSession(
  db: Db,
  hms: Hms,
  actor: { id: string } | 'system',
  sessionId: string,
): Promise<{ session: LiveSession; endedNow: boolean }> {
  const outcome = await db.transaction(async (tx) => {
    const session = await lockSession(tx, sessionId)
    if (!session || (actor !== 'system' && session.hostId !== actor.id))
      throw actor === 'system' || !session ? notFound() : notHost()
    const ended = await endSessionInTransaction(tx, session.id)
    return { session: ended ?? session, endedNow: ended !== null }
  })
  if (outcome.session.roomClosedAt === null)
    await closeRoom(db, hms, outcome.session)
  return outcome
}

/**
 * Inside a transaction: marks the session ended and settles it, if it was live. Returns the ended
 * row, or null when it had already ended. Account deletion calls this for the sessions a user hosts.
 */
export async function endSessionInTransaction(
  tx: Tx,
  sessionId: string,
): Promise<LiveSession | null> {
  const [ended] = await tx
    .update(liveSessions)
    .set({ status: 'ended', endedAt: sql`now()` })
    .where(and(eq(liveSessions.id, sessionId), eq(liveSessions.status, 'live')))
    .returning()
  if (!ended) return null
  // Everyone still in the room leaves now, as far as watch time is concerned.
  await tx.execute(sql`
    update peer_intervals set left_at = now()
    where session_id = ${sessionId} and left_at is null`)
  await settleSession(tx, ended)
  return ended
}

/** Ends every live session `userId` hosts, inside the account-deletion transaction. */
export async function endHostedSessions(tx: Tx, userId: string): Promise<void> {
  const hosted = await tx
    .select({ id: liveSessions.id })
    .from(liveSessions)
    .where(
      and(eq(liveSessions.hostId, userId), eq(liveSessions.status, 'live')),
    )
    .for('no key update')
  for (const { id } of hosted) await endSessionInTransaction(tx, id)
}

/** Ends and disables the 100ms room of an ended session; failures are left for the job. */
async function closeRoom(db: Db, hms: Hms, session: LiveSession) {
  try {
    await hms.endActiveRoom(session.hmsRoomId, 'The host ended the session')
    await hms.disableRoom(session.hmsRoomId)
    await db
      .update(liveSessions)
      .set({ roomClosedAt: sql`now()` })
      .where(eq(liveSessions.id, session.id))
  } catch (error) {
    log('warn', '100ms room not closed yet; the job will retry', {
      sessionId: session.id,
      error: errorMessage(error),
    })
  }
}

function notFound() {
  return new DomainError('not_found', 'There is no such session.', 404)
}

export const HOST_ABSENCE_MINUTES = 30

/**
 * The scheduled clean-up (SPEC §2): ends live sessions whose host has not been in the room for
 * HOST_ABSENCE_MINUTES (measured from their last leave, or from creation if they never joined),
 * closes the 100ms rooms of ended sessions that are still open, and disables orphan rooms.
 * Each step is idempotent: a second run finds nothing to do.
 */
export async function cleanUpSessions(
  db: Db,
  hms: Hms,
): Promise<{ ended: number; roomsClosed: number; orphansDisabled: number }> {
  const abandoned = await queryRows<{ id: string }>(
    db,
    sql`
    select s.id from live_sessions s
    where s.status = 'live'
      and not exists (
        select 1 from peer_intervals p
        where p.session_id = s.id and p.user_id = s.host_id and p.left_at is null
          and p.joined_at is not null)
      and greatest(
        s.created_at,
        (select max(p.left_at) from peer_intervals p
         where p.session_id = s.id and p.user_id = s.host_id)
      ) < now() - make_interval(mins => ${HOST_ABSENCE_MINUTES})
    limit 100`,
  )
  let ended = 0
  for (const { id } of abandoned) {
    const outcome = await endSession(db, hms, 'system', id)
    if (outcome.endedNow) ended += 1
  }
  const toClose = await db
    .select()
    .from(liveSessions)
    .where(
      and(
        eq(liveSessions.status, 'ended'),
        sql`${liveSessions.roomClosedAt} is null`,
      ),
    )
    .limit(100)
  let roomsClosed = 0
  for (const session of toClose) {
    await closeRoom(db, hms, session)
    const [row] = await db
      .select({ closed: liveSessions.roomClosedAt })
      .from(liveSessions)
      .where(eq(liveSessions.id, session.id))
    if (row?.closed) roomsClosed += 1
  }
  const orphans = await db.select().from(orphanHmsRooms).limit(100)
  let orphansDisabled = 0
  for (const orphan of orphans) {
    try {
      await hms.disableRoom(orphan.hmsRoomId)
      await db
        .delete(orphanHmsRooms)
        .where(eq(orphanHmsRooms.hmsRoomId, orphan.hmsRoomId))
      orphansDisabled += 1
    } catch {
      await db
        .update(orphanHmsRooms)
        .set({ attempts: sql`${orphanHmsRooms.attempts} + 1` })
        .where(eq(orphanHmsRooms.hmsRoomId, orphan.hmsRoomId))
    }
  }
  return { ended, roomsClosed, orphansDisabled }
}

/** A page of live public sessions, most watched first (boosted first once boosting exists). */
export async function listLiveSessions(
  db: Db,
  { limit = 20, cursor }: { limit?: number; cursor?: string },
): Promise<{ sessions: PublicSession[]; nextCursor: string | null }> {
  const offset = cursor ? Number.parseInt(cursor, 10) || 0 : 0
  const rows = await queryRows<PublicSessionRow>(
    db,
    sql`
    ${PUBLIC_SESSION_SELECT}
    where s.status = 'live' and s.is_public
    order by coalesce(s.boosted_until > now(), false) desc, live_viewers desc, s.created_at desc, s.id
    limit ${limit + 1} offset ${offset}`,
  )
  return {
    sessions: rows.slice(0, limit).map(toPublicSession),
    nextCursor: rows.length > limit ? String(offset + limit) : null,
  }
}

type PublicSessionRow = {
  id: string
  is_boosted: boolean
  room_code: string
  title: string
  description: string
  is_public: boolean
  max_presenters: number
  status: 'live' | 'ended'
  host_username: string | null
  host_display_name: string | null
  live_viewers: number
  created_at: string | Date
  ended_at: string | Date | null
}

const PUBLIC_SESSION_SELECT = sql`
  select s.id, s.room_code, s.title, s.description, s.is_public, s.max_presenters, s.status,
    coalesce(s.boosted_until > now(), false) as is_boosted,
    u.username as host_username, u.display_name as host_display_name,
    (select count(*)::int from peer_intervals p
     where p.session_id = s.id and p.left_at is null and p.joined_at is not null
       and p.role = 'viewer') as live_viewers,
    s.created_at, s.ended_at
  from live_sessions s join users u on u.id = s.host_id`

function toPublicSession(row: PublicSessionRow): PublicSession {
  return {
    id: row.id,
    isBoosted: row.is_boosted,
    roomCode: row.room_code,
    title: row.title,
    description: row.description,
    isPublic: row.is_public,
    maxPresenters: row.max_presenters,
    status: row.status,
    host: { username: row.host_username, displayName: row.host_display_name },
    liveViewers: row.live_viewers,
    createdAt: new Date(row.created_at).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
  }
}

export async function getPublicSession(
  db: Db,
  sessionId: string,
): Promise<PublicSession> {
  const [row] = await queryRows<PublicSessionRow>(
    db,
    sql`
    ${PUBLIC_SESSION_SELECT} where s.id = ${sessionId}`,
  )
  if (!row) throw notFound()
  return toPublicSession(row)
}

/**
 * Everything /dashboard shows, in one round trip: live public sessions (most watched first) and
 * the 10 most recent sessions `userId` hosted, live ones first.
 */
export async function dashboardSessions(
  db: Db,
  userId: string,
): Promise<{ live: PublicSession[]; mine: PublicSession[] }> {
  const [row] = await queryRows<{
    live: PublicSessionRow[] | null
    mine: PublicSessionRow[] | null
  }>(
    db,
    sql`
    select
      (select json_agg(l) from (
        ${PUBLIC_SESSION_SELECT}
        where s.status = 'live' and s.is_public
        order by coalesce(s.boosted_until > now(), false) desc, live_viewers desc,
          s.created_at desc limit 24) l) as live,
      (select json_agg(m) from (
        ${PUBLIC_SESSION_SELECT}
        where s.host_id = ${userId}
        order by s.status = 'live' desc, s.created_at desc limit 10) m) as mine`,
  )
  return {
    live: (row?.live ?? []).map(toPublicSession),
    mine: (row?.mine ?? []).map(toPublicSession),
  }
}

export interface RoomParticipant {
  userId: string
  username: string | null
  displayName: string | null
  role: ParticipantRole
  isModerator: boolean
  present: boolean
}

type RoomParticipantRow = {
  user_id: string
  username: string | null
  display_name: string | null
  role: ParticipantRole
  is_moderator: boolean
  present: boolean
}

export interface RoomView {
  session: PublicSession & {
    hostId: string
    hlsStatus: LiveSession['hlsStatus']
  }
  myRole: ParticipantRole
  participants: RoomParticipant[]
  /** The recording running now, if any: everyone in the room is told (SPEC §4). */
  activeRecording: { id: string; startedAt: string | null } | null
}

/**
 * What the room page needs about a session, in one round trip: the session, the viewer's role (the
 * database's; viewer until they join) and the participants with their roles and presence. Null when
 * no session has this code.
 */
export async function getRoomView(
  db: Db,
  roomCode: string,
  userId: string,
): Promise<RoomView | null> {
  if (!looksLikeRoomCode(roomCode)) return null
  const [row] = await queryRows<
    PublicSessionRow & {
      host_id: string
      hls_status: LiveSession['hlsStatus']
      active_recording: { id: string; startedAt: string | null } | null
      my_role: ParticipantRole | null
      participants: RoomParticipantRow[] | null
    }
  >(
    db,
    sql`
    select v.*, s2.host_id, s2.hls_status,
      (select json_build_object('id', r.id, 'startedAt', r.started_at) from recordings r
       where r.session_id = v.id and r.status = 'recording' limit 1) as active_recording,
      (select role from session_participants
       where session_id = v.id and user_id = ${userId}) as my_role,
      (select json_agg(p order by p.role = 'host' desc, p.role = 'presenter' desc, p.display_name)
       from (
         select sp.user_id, u.username, u.display_name, sp.role, sp.is_moderator,
           exists (select 1 from peer_intervals pi
                   where pi.session_id = sp.session_id and pi.user_id = sp.user_id
                     and pi.left_at is null and pi.joined_at is not null) as present
         from session_participants sp join users u on u.id = sp.user_id
         where sp.session_id = v.id and u.deleted_at is null
         limit 500) p) as participants
    from (${PUBLIC_SESSION_SELECT} where s.room_code = ${roomCode.toUpperCase()}) v
    join live_sessions s2 on s2.id = v.id`,
  )
  if (!row) return null
  return {
    session: {
      ...toPublicSession(row),
      hostId: row.host_id,
      hlsStatus: row.hls_status,
    },
    myRole: row.my_role ?? 'viewer',
    activeRecording: row.active_recording,
    participants: (row.participants ?? []).map((p: RoomParticipantRow) => ({
      userId: p.user_id,
      username: p.username,
      displayName: p.display_name,
      role: p.role,
      isModerator: p.is_moderator,
      present: p.present,
    })),
  }
}
