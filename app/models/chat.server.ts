import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Db } from '../db/client.server'
import {
  chatBlockedTerms,
  liveSessions,
  sessionBans,
  sessionParticipants,
} from '../db/schema'
import { log } from '../services/monitoring.server'
import { DomainError, errorMessage } from '../utils/errors'
import { isUuid } from '../utils/ids'
import {
  type ChatMember,
  type ChatRole,
  type ChatRoomSettings,
  type ModerationCommand,
} from './chat-rules'
import { requireRecordingView } from './recordings.server'

/**
 * Session chat on the Postgres side (SPEC §2a, ADR 015): who may connect, moderation that must
 * outlive the live session (bans, moderators, blocked terms), the archive and the exports. The
 * live chat itself is the SessionChat Durable Object, reached through `ChatRooms`.
 */

export interface ModerationTarget {
  role: ChatRole | null
  isModerator: boolean
}

export type ModerationOutcome =
  | { ok: true }
  | { ok: false; status: number; code: string; message: string }

export interface ChatExport {
  closed: boolean
  messages: Array<{
    id: number
    userId: string
    displayName: string
    text: string
    /** Epoch ms. */
    sentAt: number
    isQuestion: boolean
    answeredAt: number | null
    hiddenAt: number | null
    hiddenBy: string | null
    isHeld: boolean
  }>
  actions: Array<{
    seq: number
    actorId: string
    action: string
    targetUserId: string | null
    messageId: number | null
    amount: number | null
    at: number
  }>
}

type MaybePromise<T> = T | Promise<T>

/** The SessionChat object's calls (workers/session-chat.ts implements them; RPC makes them async). */
export interface ChatRoom {
  fetch(request: Request): Promise<Response>
  moderate(
    actor: ChatMember,
    command: ModerationCommand,
    target: ModerationTarget | null,
  ): MaybePromise<ModerationOutcome>
  setModerator(userId: string, isModerator: boolean): MaybePromise<void>
  setBlockedTerms(terms: string[]): MaybePromise<void>
  disconnectMember(userId: string): MaybePromise<void>
  close(): MaybePromise<void>
  exportChat(): MaybePromise<ChatExport>
  clear(): MaybePromise<void>
}

/** The chat object of a session, by session id. */
export type ChatRooms = (sessionId: string) => ChatRoom

/**
 * Tells a live chat about a change already committed in Postgres. The object only hears sooner what
 * it would otherwise learn on the next admission, so a failure is logged, not thrown.
 */
async function tellRoom(
  rooms: ChatRooms,
  sessionId: string,
  failure: string,
  tell: (room: ChatRoom) => unknown,
): Promise<void> {
  try {
    await tell(rooms(sessionId))
  } catch (error) {
    log('warn', failure, { sessionId, error: errorMessage(error) })
  }
}

/** What the upgrade route tells the object about the connecting member (a trusted header). */
export interface ChatAdmission {
  member: ChatMember
  room: ChatRoomSettings
  /** Resume after this message id instead of sending the last 200. */
  after: number | null
  /** The upgrade request's id, carried by the socket into monitoring. */
  requestId?: string
}

export const CHAT_ADMISSION_HEADER = 'X-Kulti-Chat-Admission'

/** Base64 of the JSON (a header value must be Latin-1; names and terms are not). */
export function encodeAdmission(admission: ChatAdmission): string {
  const bytes = new TextEncoder().encode(JSON.stringify(admission))
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

export function decodeAdmission(value: string | null): ChatAdmission | null {
  if (!value) return null
  try {
    const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0))
    return JSON.parse(new TextDecoder().decode(bytes)) as ChatAdmission
  } catch {
    return null
  }
}

function sessionNotFound() {
  return new DomainError('not_found', 'There is no such session.', 404)
}

function notParticipant() {
  return new DomainError(
    'not_participant',
    'That person has not joined this session.',
    404,
  )
}

function sessionEnded() {
  return new DomainError('session_ended', 'This session has ended.', 410)
}

type MemberRow = {
  session_id: string
  host_id: string
  status: 'live' | 'ended'
  is_public: boolean
  room_code: string
  role: ChatRole | null
  is_moderator: boolean | null
  display_name: string | null
  username: string | null
  is_banned: boolean
  blocked_terms: string[] | null
}

/** The session and `userId`'s standing in it, in one round trip. */
async function loadMember(
  db: Db,
  sessionId: string,
  userId: string,
): Promise<MemberRow | null> {
  if (!isUuid(sessionId)) return null
  const [row] = await queryRows<MemberRow>(
    db,
    sql`
    select s.id as session_id, s.host_id, s.status, s.is_public, s.room_code,
      sp.role, sp.is_moderator, u.display_name, u.username,
      exists (select 1 from session_bans b where b.session_id = s.id and b.user_id = ${userId})
        as is_banned,
      (select array_agg(t.term order by t.term) from chat_blocked_terms t where t.host_id = s.host_id)
        as blocked_terms
    from live_sessions s
    join users u on u.id = ${userId}
    left join session_participants sp on sp.session_id = s.id and sp.user_id = ${userId}
    where s.id = ${sessionId}`,
  )
  return row ?? null
}

function toMember(userId: string, row: MemberRow): ChatMember {
  return {
    userId,
    displayName: row.display_name ?? row.username ?? 'Someone',
    role: row.role ?? 'viewer',
    isModerator: row.is_moderator ?? false,
  }
}

/**
 * May `userId` open the chat of `sessionId`? Whoever may see the session (public, a participant, or
 * holding the room code) and is not banned, while it is live; a first connection makes them a
 * viewer participant, as joining the video does.
 */
export async function admitToChat(
  db: Db,
  userId: string,
  sessionId: string,
  { roomCode, after }: { roomCode: string | null; after: number | null },
): Promise<ChatAdmission> {
  const row = await loadMember(db, sessionId, userId)
  const visible =
    row &&
    (row.is_public ||
      row.role !== null ||
      (roomCode !== null && roomCode.toUpperCase() === row.room_code))
  if (!row || !visible) throw sessionNotFound()
  if (row.status !== 'live') throw sessionEnded()
  if (row.is_banned)
    throw new DomainError(
      'banned',
      'You are banned from this session by its host.',
      403,
    )
  if (row.role === null) {
    await db
      .insert(sessionParticipants)
      .values({ sessionId, userId, role: 'viewer' })
      .onConflictDoNothing()
  }
  return {
    member: toMember(userId, row),
    room: {
      sessionId,
      hostId: row.host_id,
      blockedTerms: row.blocked_terms ?? [],
    },
    after,
  }
}

/** Whether `userId` is banned from `sessionId` (the join token is refused too). */
export async function isBannedFromSession(
  db: Db,
  sessionId: string,
  userId: string,
): Promise<boolean> {
  const rows = await db
    .select({ userId: sessionBans.userId })
    .from(sessionBans)
    .where(
      and(eq(sessionBans.sessionId, sessionId), eq(sessionBans.userId, userId)),
    )
  return rows.length > 0
}

/**
 * A moderation command by `actorId`. Who the actor is comes from Postgres; whether they may do it is
 * the chat object's decision (host or moderator). A ban is also written here so the join token is
 * refused; if that write fails, the object's ban is undone, so the two never disagree.
 */
export async function moderateChat(
  db: Db,
  rooms: ChatRooms,
  actorId: string,
  sessionId: string,
  command: ModerationCommand,
): Promise<void> {
  const row = await loadMember(db, sessionId, actorId)
  if (!row || (row.role === null && !row.is_public)) throw sessionNotFound()
  if (row.status !== 'live') throw sessionEnded()
  const actor = toMember(actorId, row)
  let target: ModerationTarget | null = null
  if ('userId' in command) {
    const targetRow = await loadMember(db, sessionId, command.userId)
    if (!targetRow)
      throw new DomainError('user_not_found', 'There is no such user.', 404)
    target = { role: targetRow.role, isModerator: !!targetRow.is_moderator }
  }
  const room = rooms(sessionId)
  const outcome = await room.moderate(actor, command, target)
  if (!outcome.ok)
    throw new DomainError(outcome.code, outcome.message, outcome.status)
  if (command.action === 'ban') {
    try {
      await db
        .insert(sessionBans)
        .values({ sessionId, userId: command.userId, bannedBy: actorId })
        .onConflictDoNothing()
    } catch (error) {
      await room.moderate(
        actor,
        { action: 'unban', userId: command.userId },
        target,
      )
      throw error
    }
  } else if (command.action === 'unban') {
    await db
      .delete(sessionBans)
      .where(
        and(
          eq(sessionBans.sessionId, sessionId),
          eq(sessionBans.userId, command.userId),
        ),
      )
  }
}

/** The host names (or stops naming) a participant as a moderator of their session's chat. */
export async function setSessionModerator(
  db: Db,
  rooms: ChatRooms,
  hostId: string,
  sessionId: string,
  { userId, action }: { userId: string; action: 'add' | 'remove' },
): Promise<{ userId: string; isModerator: boolean }> {
  const row = await loadMember(db, sessionId, hostId)
  if (!row || (row.role === null && !row.is_public)) throw sessionNotFound()
  if (row.host_id !== hostId)
    throw new DomainError('not_host', 'Only the host can name moderators.', 403)
  if (row.status !== 'live') throw sessionEnded()
  if (userId === hostId)
    throw new DomainError(
      'host_is_moderator',
      'The host already moderates their session.',
      400,
    )
  // A page form sends whatever it holds: not an id is nobody who joined.
  if (!isUuid(userId)) throw notParticipant()
  const isModerator = action === 'add'
  const updated = await db
    .update(sessionParticipants)
    .set({ isModerator })
    .where(
      and(
        eq(sessionParticipants.sessionId, sessionId),
        eq(sessionParticipants.userId, userId),
      ),
    )
    .returning({ userId: sessionParticipants.userId })
  if (updated.length === 0) throw notParticipant()
  // Their authority comes from Postgres; the object only tells open sockets sooner.
  await tellRoom(
    rooms,
    sessionId,
    'chat room was not told about a moderator change',
    (room) => room.setModerator(userId, isModerator),
  )
  return { userId, isModerator }
}

/**
 * Moves an ended session's chat from its object to Postgres: the object is closed (nobody sends
 * after the end), its messages and moderation actions are written in one transaction that also
 * marks the session archived, and only then is the object cleared. Safe to repeat: a session
 * already archived writes nothing and just clears the object again.
 */
export async function archiveSessionChat(
  db: Db,
  rooms: ChatRooms,
  sessionId: string,
): Promise<{ archived: boolean; messages: number }> {
  const started = Date.now()
  const room = rooms(sessionId)
  await room.close()
  const exported = await room.exportChat()
  const archived = await db.transaction(async (tx) => {
    const claimed = await tx
      .update(liveSessions)
      .set({ chatArchivedAt: sql`now()` })
      .where(
        and(
          eq(liveSessions.id, sessionId),
          eq(liveSessions.status, 'ended'),
          sql`${liveSessions.chatArchivedAt} is null`,
        ),
      )
      .returning({ id: liveSessions.id })
    if (claimed.length === 0) return false
    // One statement per table, the rows as one JSON parameter: a 10,000-message chat is two round
    // trips, far under Postgres's 65,535-parameter limit.
    if (exported.messages.length > 0)
      await tx.execute(sql`
        insert into chat_messages (session_id, id, user_id, display_name, text, sent_at,
          is_question, answered_at, hidden_at, hidden_by, is_held)
        select ${sessionId}, m.id, m."userId", m."displayName", m.text,
          to_timestamp(m."sentAt" / 1000.0), m."isQuestion",
          to_timestamp(m."answeredAt" / 1000.0), to_timestamp(m."hiddenAt" / 1000.0),
          m."hiddenBy", m."isHeld"
        from json_to_recordset(${JSON.stringify(exported.messages)}::json) as m(
          id int, "userId" uuid, "displayName" text, text text, "sentAt" bigint,
          "isQuestion" boolean, "answeredAt" bigint, "hiddenAt" bigint, "hiddenBy" uuid,
          "isHeld" boolean)
        -- Someone who deleted their account meanwhile leaves nothing they wrote behind.
        join users u on u.id = m."userId" and u.deleted_at is null
        on conflict do nothing`)
    if (exported.actions.length > 0)
      await tx.execute(sql`
        insert into chat_moderation_actions (session_id, seq, actor_id, action,
          target_user_id, message_id, amount, created_at)
        select ${sessionId}, a.seq, a."actorId", a.action, a."targetUserId", a."messageId",
          a.amount, to_timestamp(a.at / 1000.0)
        from json_to_recordset(${JSON.stringify(exported.actions)}::json) as a(
          seq int, "actorId" uuid, action text, "targetUserId" uuid, "messageId" int,
          amount int, at bigint)
        on conflict do nothing`)
    return true
  })
  const [session] = await db
    .select({ archivedAt: liveSessions.chatArchivedAt })
    .from(liveSessions)
    .where(eq(liveSessions.id, sessionId))
  if (session?.archivedAt) await room.clear()
  const messages = archived ? exported.messages.length : 0
  if (archived)
    log('info', 'chat archived', {
      sessionId,
      messages,
      actions: exported.actions.length,
      durationMs: Date.now() - started,
    })
  return { archived, messages }
}

/**
 * The scheduled catch-up: ended sessions whose chat is still in its object (the end came from the
 * abandoned-session job, an account deletion, or an archive that failed). A few per run.
 */
export async function archiveMissedChats(
  db: Db,
  rooms: ChatRooms,
  limit = 20,
): Promise<{ archived: number; failed: number }> {
  const due = await db
    .select({ id: liveSessions.id })
    .from(liveSessions)
    .where(
      and(
        eq(liveSessions.status, 'ended'),
        sql`${liveSessions.chatArchivedAt} is null`,
      ),
    )
    .orderBy(liveSessions.endedAt)
    .limit(limit)
  let archived = 0
  let failed = 0
  for (const { id } of due) {
    try {
      await archiveSessionChat(db, rooms, id)
      archived += 1
    } catch (error) {
      failed += 1
      log('error', 'chat archive failed', {
        sessionId: id,
        error: errorMessage(error),
      })
    }
  }
  return { archived, failed }
}

/** After a session ends: archive now, or leave it to the job if that fails (logged). */
export async function archiveAfterEnd(
  db: Db,
  rooms: ChatRooms,
  sessionId: string,
): Promise<void> {
  try {
    await archiveSessionChat(db, rooms, sessionId)
  } catch (error) {
    log('warn', 'chat archive deferred to the scheduled job', {
      sessionId,
      error: errorMessage(error),
    })
  }
}

/**
 * After an account is deleted: the chats of the sessions it hosted (ended by the deletion) are
 * archived now, and its open sockets in other live chats are closed, so nobody keeps talking under
 * a deleted name until the session ends.
 */
export async function leaveChatsAfterDeletion(
  db: Db,
  rooms: ChatRooms,
  userId: string,
): Promise<void> {
  const rows = await queryRows<{ id: string; hosted: boolean }>(
    db,
    sql`
    select s.id, s.host_id = ${userId} as hosted from live_sessions s
    where (s.host_id = ${userId} and s.status = 'ended' and s.chat_archived_at is null)
       or (s.status = 'live' and exists (select 1 from session_participants sp
             where sp.session_id = s.id and sp.user_id = ${userId}))`,
  )
  for (const { id, hosted } of rows) {
    if (hosted) {
      await archiveAfterEnd(db, rooms, id)
      continue
    }
    await tellRoom(
      rooms,
      id,
      'a deleted account was not disconnected from a chat',
      (room) => room.disconnectMember(userId),
    )
  }
}

export interface ArchivedChatMessage {
  id: number
  userId: string
  displayName: string
  text: string
  sentAt: string
  isQuestion: boolean
  answeredAt: string | null
  hiddenAt: string | null
  hiddenBy: string | null
  isHeld: boolean
}

/** The host's export of an ended session's chat: every message (hidden and held ones flagged) and every moderation action. */
export async function exportSessionChat(
  db: Db,
  userId: string,
  sessionId: string,
) {
  const row = await loadMember(db, sessionId, userId)
  if (!row || (row.role === null && !row.is_public)) throw sessionNotFound()
  if (row.host_id !== userId)
    throw new DomainError(
      'not_host',
      'Only the host can export the chat of a session.',
      403,
    )
  const [result] = await queryRows<{
    archived_at: string | null
    title: string
    messages: ArchivedChatMessage[] | null
    actions: unknown[] | null
  }>(
    db,
    sql`
    select s.chat_archived_at as archived_at, s.title,
      (select json_agg(json_build_object('id', m.id, 'userId', m.user_id,
          'displayName', m.display_name, 'text', m.text, 'sentAt', m.sent_at,
          'isQuestion', m.is_question, 'answeredAt', m.answered_at, 'hiddenAt', m.hidden_at,
          'hiddenBy', m.hidden_by, 'isHeld', m.is_held) order by m.id)
       from chat_messages m where m.session_id = s.id) as messages,
      (select json_agg(json_build_object('seq', a.seq, 'actorId', a.actor_id,
          'action', a.action, 'targetUserId', a.target_user_id, 'messageId', a.message_id,
          'amount', a.amount, 'at', a.created_at) order by a.seq)
       from chat_moderation_actions a where a.session_id = s.id) as actions
    from live_sessions s where s.id = ${sessionId}`,
  )
  if (!result?.archived_at)
    throw new DomainError(
      'chat_not_archived',
      row.status === 'live'
        ? 'The chat is exported once the session has ended.'
        : 'The chat is still being archived. Try again in a few minutes.',
      409,
    )
  return {
    session: { id: sessionId, title: result.title },
    archivedAt: result.archived_at,
    messages: result.messages ?? [],
    moderation: result.actions ?? [],
  }
}

export interface ReplayMessage {
  id: number
  displayName: string
  text: string
  /** Milliseconds after the recording started. */
  offsetMs: number
}

/**
 * The chat to replay beside a recording (anyone who may see the recording): messages sent while
 * it ran, hidden and held-back ones left out, as offsets into the video.
 */
export async function getRecordingChat(
  db: Db,
  userId: string,
  recordingId: string,
): Promise<ReplayMessage[]> {
  const recording = await requireRecordingView(db, userId, recordingId)
  if (!recording.startedAt) return []
  return queryRows<ReplayMessage>(
    db,
    sql`
    select m.id, m.display_name as "displayName", m.text,
      (extract(epoch from m.sent_at - ${recording.startedAt}::timestamptz) * 1000)::int
        as "offsetMs"
    from chat_messages m
    where m.session_id = ${recording.sessionId} and m.hidden_at is null and not m.is_held
      and m.sent_at >= ${recording.startedAt}::timestamptz
      and (${recording.stoppedAt}::timestamptz is null or m.sent_at <= ${recording.stoppedAt}::timestamptz)
    order by m.id
    limit 10000`,
  )
}

export const MAX_BLOCKED_TERMS = 100

export async function getBlockedTerms(
  db: Db,
  hostId: string,
): Promise<string[]> {
  const rows = await db
    .select({ term: chatBlockedTerms.term })
    .from(chatBlockedTerms)
    .where(eq(chatBlockedTerms.hostId, hostId))
    .orderBy(chatBlockedTerms.term)
  return rows.map((r) => r.term)
}

/**
 * Replaces a host's blocked terms (one transaction), then tells the chats of their live sessions,
 * so a term blocked mid-session holds from the next message on.
 */
export async function replaceBlockedTerms(
  db: Db,
  rooms: ChatRooms,
  hostId: string,
  terms: string[],
): Promise<string[]> {
  const unique = [
    ...new Set(terms.map((t) => t.trim().toLocaleLowerCase()).filter(Boolean)),
  ]
  if (unique.length > MAX_BLOCKED_TERMS)
    throw new DomainError(
      'too_many_terms',
      `Keep at most ${MAX_BLOCKED_TERMS} blocked terms.`,
      400,
      { terms: `At most ${MAX_BLOCKED_TERMS} terms.` },
    )
  const tooLong = unique.find((t) => [...t].length > 50)
  if (tooLong)
    throw new DomainError(
      'term_too_long',
      'A blocked term is at most 50 characters.',
      400,
      { terms: `“${tooLong.slice(0, 20)}…” is longer than 50 characters.` },
    )
  const live = await db.transaction(async (tx) => {
    await tx.delete(chatBlockedTerms).where(eq(chatBlockedTerms.hostId, hostId))
    if (unique.length > 0)
      await tx
        .insert(chatBlockedTerms)
        .values(unique.map((term) => ({ hostId, term })))
    return tx
      .select({ id: liveSessions.id })
      .from(liveSessions)
      .where(
        and(eq(liveSessions.hostId, hostId), eq(liveSessions.status, 'live')),
      )
  })
  for (const { id } of live) {
    await tellRoom(
      rooms,
      id,
      'a live chat was not told about new blocked terms',
      (room) => room.setBlockedTerms(unique),
    )
  }
  return unique.sort()
}
