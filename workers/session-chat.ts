import { DurableObject } from 'cloudflare:workers'
import {
  canModerate,
  checkMessageText,
  containsBlockedTerm,
  decideSend,
  HISTORY_ON_CONNECT,
  MAX_RESUME,
  parseClientFrame,
  SEND_LIMIT,
  type ChatMember,
  type ChatMessage,
  type ChatRoomSettings,
  type ModerationCommand,
  type Refusal,
  type ServerFrame,
} from '../app/models/chat-rules'
import {
  CHAT_ADMISSION_HEADER,
  decodeAdmission,
  type ChatExport,
  type ChatRoom,
  type ModerationOutcome,
  type ModerationTarget,
} from '../app/models/chat.server'
import {
  monitorDurableObjectCall,
  type DurableObjectCall,
} from '../app/services/monitoring.server'
import { readMonitoringEnv } from '../app/utils/env.server'
import type { Bindings } from './bindings'

interface MessageRow extends Record<string, SqlStorageValue> {
  id: number
  user_id: string
  display_name: string
  text: string
  sent_at: number
  is_question: number
  answered_at: number | null
  hidden_at: number | null
  hidden_by: string | null
  is_held: number
}

/** What each socket carries through hibernation: who it is and the upgrade's request id. */
interface SocketAttachment {
  member: ChatMember
  requestId: string | undefined
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL, display_name TEXT NOT NULL, text TEXT NOT NULL,
    sent_at INTEGER NOT NULL, is_question INTEGER NOT NULL DEFAULT 0, answered_at INTEGER,
    hidden_at INTEGER, hidden_by TEXT, is_held INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS messages_user ON messages (user_id, id);
  CREATE TABLE IF NOT EXISTS actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, actor_id TEXT NOT NULL, action TEXT NOT NULL,
    target_user_id TEXT, message_id INTEGER, amount INTEGER, at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS timeouts (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS bans (user_id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

/**
 * One live session's chat (SPEC §2a, ADR 015). Clients are WebSockets accepted through the
 * hibernation API, tagged with their user id; each socket's attachment is the member the upgrade
 * route admitted. Everything lives in the object's SQLite until the session ends and the app Worker
 * archives it to Postgres and clears it. The object runs one event at a time and SQLite is
 * synchronous, so a message's id, its checks and its broadcast happen with no await in between:
 * every client sees the same order.
 */
export class SessionChat extends DurableObject<Bindings> implements ChatRoom {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(SCHEMA)
  }

  /** The WebSocket upgrade, forwarded by the route after it admitted the member. */
  async fetch(request: Request): Promise<Response> {
    const admission = decodeAdmission(
      request.headers.get(CHAT_ADMISSION_HEADER),
    )
    return this.monitored(
      'SessionChat.fetch',
      { requestId: admission?.requestId },
      () => this.upgrade(request, admission),
    )
  }

  private upgrade(
    request: Request,
    admission: ReturnType<typeof decodeAdmission>,
  ): Response {
    if (!admission || request.headers.get('Upgrade') !== 'websocket')
      return new Response('Expected an admitted WebSocket upgrade', {
        status: 400,
      })
    const { member, room, after } = admission
    if (this.isClosed())
      return new Response('This session has ended', { status: 410 })
    if (this.isBanned(member.userId))
      return new Response('You are banned from this chat', { status: 403 })
    this.saveRoom(room)
    const { 0: client, 1: server } = new WebSocketPair()
    this.ctx.acceptWebSocket(server, [member.userId])
    server.serializeAttachment({
      member,
      requestId: admission.requestId,
    } satisfies SocketAttachment)
    this.send(server, {
      type: 'welcome',
      member,
      slowModeSeconds: this.slowModeSeconds(),
    })
    const backlog =
      after === null
        ? this.lastVisible(member.userId, HISTORY_ON_CONNECT)
        : this.visibleAfter(member.userId, after)
    for (const row of backlog)
      this.send(server, { type: 'message', message: toMessage(row) })
    if (canModerate(member)) {
      for (const row of this.openQuestions())
        this.send(server, { type: 'message', message: toMessage(row) })
    }
    return new Response(null, { status: 101, webSocket: client })
  }

  async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer) {
    const attachment = ws.deserializeAttachment() as SocketAttachment | null
    if (!attachment) return ws.close(1011, 'unknown member')
    await this.monitored(
      'SessionChat.webSocketMessage',
      { requestId: attachment.requestId },
      () => this.handleFrame(ws, attachment.member, data),
    )
  }

  private handleFrame(
    ws: WebSocket,
    member: ChatMember,
    data: string | ArrayBuffer,
  ) {
    const parsed = parseClientFrame(data)
    if ('refusal' in parsed) return this.refuse(ws, parsed.refusal)
    const { frame } = parsed
    if (frame.type === 'send') return this.receive(ws, member, frame.text)
    if (frame.type === 'resume') {
      for (const id of this.hiddenUpTo(frame.after))
        this.send(ws, { type: 'hidden', id })
      for (const row of this.visibleAfter(member.userId, frame.after))
        this.send(ws, { type: 'message', message: toMessage(row) })
      return
    }
    return this.markQuestion(ws, member, frame.id)
  }

  async webSocketClose(ws: WebSocket, code: number) {
    // Complete the closing handshake; 1005/1006 are not codes a server may send.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'bye')
    } catch {
      // already closed
    }
  }

  /** A moderation command by `actor` (host or moderator only: the object refuses anyone else). */
  moderate(
    actor: ChatMember,
    command: ModerationCommand,
    target: ModerationTarget | null,
    call?: DurableObjectCall,
  ): Promise<ModerationOutcome> {
    return this.monitored('SessionChat.moderate', call, () =>
      this.applyModeration(actor, command, target),
    )
  }

  private applyModeration(
    actor: ChatMember,
    command: ModerationCommand,
    target: ModerationTarget | null,
  ): ModerationOutcome {
    if (!canModerate(actor))
      return refused(
        403,
        'not_moderator',
        'Only the host and moderators can do that.',
      )
    if (this.isClosed())
      return refused(410, 'session_ended', 'This session has ended.')
    const now = Date.now()
    switch (command.action) {
      case 'hide': {
        const row = this.message(command.messageId)
        if (!row || row.hidden_at !== null)
          return refused(404, 'message_not_found', 'There is no such message.')
        this.sql.exec(
          'UPDATE messages SET hidden_at = ?, hidden_by = ? WHERE id = ?',
          now,
          actor.userId,
          row.id,
        )
        this.record(actor, 'hide', null, row.id, null, now)
        this.broadcast({ type: 'hidden', id: row.id })
        return { ok: true }
      }
      case 'answer': {
        const row = this.message(command.messageId)
        if (!row || row.hidden_at !== null || !row.is_question)
          return refused(
            404,
            'question_not_found',
            'There is no such open question.',
          )
        this.sql.exec(
          'UPDATE messages SET answered_at = coalesce(answered_at, ?) WHERE id = ?',
          now,
          row.id,
        )
        this.record(actor, 'answer', null, row.id, null, now)
        this.broadcastAbout(row, {
          type: 'question',
          id: row.id,
          isAnswered: true,
        })
        return { ok: true }
      }
      case 'slow': {
        this.sql.exec(
          `INSERT INTO settings (key, value) VALUES ('slow_mode', ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          String(command.seconds),
        )
        this.record(actor, 'slow', null, null, command.seconds, now)
        this.broadcast({
          type: 'moderation',
          action: 'slow',
          seconds: command.seconds,
        })
        return { ok: true }
      }
      case 'timeout':
      case 'ban':
      case 'unban': {
        const refusal = checkTarget(actor, command.userId, target)
        if (refusal) return refusal
        if (command.action === 'timeout') {
          const until = now + command.minutes * 60_000
          this.sql.exec(
            `INSERT INTO timeouts (user_id, until) VALUES (?, ?)
             ON CONFLICT (user_id) DO UPDATE SET until = excluded.until`,
            command.userId,
            until,
          )
          this.record(
            actor,
            'timeout',
            command.userId,
            null,
            command.minutes,
            now,
          )
          this.broadcast({
            type: 'moderation',
            action: 'timeout',
            userId: command.userId,
            until: new Date(until).toISOString(),
          })
        } else if (command.action === 'ban') {
          this.sql.exec(
            'INSERT INTO bans (user_id) VALUES (?) ON CONFLICT DO NOTHING',
            command.userId,
          )
          this.record(actor, 'ban', command.userId, null, null, now)
          this.broadcast({
            type: 'moderation',
            action: 'ban',
            userId: command.userId,
          })
          for (const ws of this.ctx.getWebSockets(command.userId)) {
            this.send(ws, {
              type: 'error',
              code: 'banned',
              message: 'You were banned from this chat.',
            })
            ws.close(4003, 'banned')
          }
        } else {
          this.sql.exec('DELETE FROM bans WHERE user_id = ?', command.userId)
          this.sql.exec(
            'DELETE FROM timeouts WHERE user_id = ?',
            command.userId,
          )
          this.record(actor, 'unban', command.userId, null, null, now)
          this.broadcast({
            type: 'moderation',
            action: 'unban',
            userId: command.userId,
          })
        }
        return { ok: true }
      }
    }
  }

  /** The host named or removed a moderator: their open sockets change role at once. */
  setModerator(
    userId: string,
    isModerator: boolean,
    call?: DurableObjectCall,
  ): Promise<void> {
    return this.monitored('SessionChat.setModerator', call, () => {
      for (const ws of this.ctx.getWebSockets(userId)) {
        const attachment = ws.deserializeAttachment() as SocketAttachment
        ws.serializeAttachment({
          ...attachment,
          member: { ...attachment.member, isModerator },
        } satisfies SocketAttachment)
      }
      this.broadcast({
        type: 'moderation',
        action: 'moderator',
        userId,
        isModerator,
      })
    })
  }

  /** The member's account is gone: their open sockets close, and they cannot come back in. */
  disconnectMember(userId: string, call?: DurableObjectCall): Promise<void> {
    return this.monitored('SessionChat.disconnectMember', call, () => {
      for (const ws of this.ctx.getWebSockets(userId))
        ws.close(4001, 'account deleted')
    })
  }

  setBlockedTerms(terms: string[], call?: DurableObjectCall): Promise<void> {
    return this.monitored('SessionChat.setBlockedTerms', call, () =>
      this.saveSetting('blocked_terms', JSON.stringify(terms)),
    )
  }

  /** The session ended: nobody may send any more; everyone is told and disconnected. */
  close(call?: DurableObjectCall): Promise<void> {
    return this.monitored('SessionChat.close', call, () => {
      this.saveSetting('closed', '1')
      for (const ws of this.ctx.getWebSockets()) {
        this.send(ws, { type: 'ended' })
        ws.close(1000, 'session ended')
      }
    })
  }

  /** Everything the object holds, for the archive (messages and actions in id order). */
  exportChat(call?: DurableObjectCall): Promise<ChatExport> {
    return this.monitored('SessionChat.exportChat', call, () =>
      this.exportRows(),
    )
  }

  private exportRows(): ChatExport {
    return {
      closed: this.isClosed(),
      messages: this.sql
        .exec<MessageRow>('SELECT * FROM messages ORDER BY id')
        .toArray()
        .map((row) => ({
          id: row.id,
          userId: row.user_id,
          displayName: row.display_name,
          text: row.text,
          sentAt: row.sent_at,
          isQuestion: row.is_question === 1,
          answeredAt: row.answered_at,
          hiddenAt: row.hidden_at,
          hiddenBy: row.hidden_by,
          isHeld: row.is_held === 1,
        })),
      actions: this.sql
        .exec<{
          seq: number
          actor_id: string
          action: string
          target_user_id: string | null
          message_id: number | null
          amount: number | null
          at: number
        }>('SELECT * FROM actions ORDER BY seq')
        .toArray()
        .map((row) => ({
          seq: row.seq,
          actorId: row.actor_id,
          action: row.action,
          targetUserId: row.target_user_id,
          messageId: row.message_id,
          amount: row.amount,
          at: row.at,
        })),
    }
  }

  /** Called once the archive committed: the object keeps nothing but the fact that it ended. */
  clear(call?: DurableObjectCall): Promise<void> {
    return this.monitored('SessionChat.clear', call, async () => {
      await this.ctx.storage.deleteAll()
      this.sql.exec(SCHEMA)
      this.saveSetting('closed', '1')
    })
  }

  /** Runs one call under its own monitor: an error is reported once, with the caller's request id. */
  private monitored<T>(
    name: string,
    call: DurableObjectCall | undefined,
    work: () => T | Promise<T>,
  ): Promise<T> {
    return monitorDurableObjectCall(
      readMonitoringEnv(this.env),
      this.ctx,
      name,
      call,
      work,
    )
  }

  private receive(ws: WebSocket, member: ChatMember, raw: string) {
    const checked = checkMessageText(raw)
    if ('refusal' in checked) return this.refuse(ws, checked.refusal)
    if (this.isClosed())
      return this.refuse(ws, {
        code: 'session_ended',
        message: 'This session has ended.',
      })
    const now = Date.now()
    const refusal = decideSend(member, {
      now,
      recentSends: this.sql
        .exec<{ sent_at: number }>(
          'SELECT sent_at FROM messages WHERE user_id = ? ORDER BY id DESC LIMIT ?',
          member.userId,
          SEND_LIMIT.count,
        )
        .toArray()
        .map((row) => row.sent_at),
      slowModeSeconds: this.slowModeSeconds(),
      timedOutUntil:
        this.sql
          .exec<{
            until: number
          }>('SELECT until FROM timeouts WHERE user_id = ?', member.userId)
          .toArray()[0]?.until ?? 0,
    })
    if (refusal) return this.refuse(ws, refusal)
    const isHeld = containsBlockedTerm(checked.text, this.blockedTerms())
    const row = this.sql
      .exec<MessageRow>(
        `INSERT INTO messages (user_id, display_name, text, sent_at, is_held)
         VALUES (?, ?, ?, ?, ?) RETURNING *`,
        member.userId,
        member.displayName,
        checked.text,
        now,
        isHeld ? 1 : 0,
      )
      .one()
    this.broadcastAbout(row, { type: 'message', message: toMessage(row) })
  }

  private markQuestion(ws: WebSocket, member: ChatMember, id: number) {
    const row = this.message(id)
    const visible =
      row &&
      row.hidden_at === null &&
      (!row.is_held || row.user_id === member.userId)
    if (!row || !visible)
      return this.refuse(ws, {
        code: 'message_not_found',
        message: 'There is no such message.',
      })
    if (row.user_id !== member.userId && !canModerate(member))
      return this.refuse(ws, {
        code: 'not_your_message',
        message: 'You can mark only your own messages as questions.',
      })
    if (row.is_question) return
    this.sql.exec('UPDATE messages SET is_question = 1 WHERE id = ?', id)
    this.broadcastAbout(row, { type: 'question', id, isAnswered: false })
  }

  /** Sends a frame about `row` to everyone who may see it (a held message: its author only). */
  private broadcastAbout(row: MessageRow, frame: ServerFrame) {
    if (row.is_held) {
      for (const ws of this.ctx.getWebSockets(row.user_id)) this.send(ws, frame)
    } else {
      this.broadcast(frame)
    }
  }

  private broadcast(frame: ServerFrame) {
    const text = JSON.stringify(frame)
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text)
      } catch {
        // A socket closing under us; its close event tidies up.
      }
    }
  }

  private send(ws: WebSocket, frame: ServerFrame) {
    try {
      ws.send(JSON.stringify(frame))
    } catch {
      // closing
    }
  }

  private refuse(ws: WebSocket, refusal: Refusal) {
    this.send(ws, { type: 'error', ...refusal })
  }

  private lastVisible(userId: string, limit: number): MessageRow[] {
    return this.sql
      .exec<MessageRow>(
        `SELECT * FROM messages WHERE hidden_at IS NULL AND (is_held = 0 OR user_id = ?)
         ORDER BY id DESC LIMIT ?`,
        userId,
        limit,
      )
      .toArray()
      .reverse()
  }

  private visibleAfter(userId: string, after: number): MessageRow[] {
    return this.sql
      .exec<MessageRow>(
        `SELECT * FROM messages WHERE id > ? AND hidden_at IS NULL AND (is_held = 0 OR user_id = ?)
         ORDER BY id LIMIT ?`,
        after,
        userId,
        MAX_RESUME,
      )
      .toArray()
  }

  /** Recently hidden messages a resuming client may still show. */
  private hiddenUpTo(after: number): number[] {
    return this.sql
      .exec<{ id: number }>(
        `SELECT id FROM messages WHERE hidden_at IS NOT NULL AND id <= ?
         ORDER BY id DESC LIMIT ?`,
        after,
        HISTORY_ON_CONNECT,
      )
      .toArray()
      .map((row) => row.id)
  }

  /** Open questions older than the history a moderator gets on connect. */
  private openQuestions(): MessageRow[] {
    return this.sql
      .exec<MessageRow>(
        `SELECT * FROM messages WHERE is_question = 1 AND answered_at IS NULL
           AND hidden_at IS NULL AND is_held = 0
           AND id < coalesce((SELECT min(id) FROM (SELECT id FROM messages
             WHERE hidden_at IS NULL AND is_held = 0 ORDER BY id DESC LIMIT ?)), 0)
         ORDER BY id`,
        HISTORY_ON_CONNECT,
      )
      .toArray()
  }

  private message(id: number): MessageRow | null {
    return (
      this.sql
        .exec<MessageRow>('SELECT * FROM messages WHERE id = ?', id)
        .toArray()[0] ?? null
    )
  }

  private record(
    actor: ChatMember,
    action: string,
    targetUserId: string | null,
    messageId: number | null,
    amount: number | null,
    at: number,
  ) {
    this.sql.exec(
      `INSERT INTO actions (actor_id, action, target_user_id, message_id, amount, at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      actor.userId,
      action,
      targetUserId,
      messageId,
      amount,
      at,
    )
  }

  private isBanned(userId: string) {
    return (
      this.sql.exec('SELECT 1 FROM bans WHERE user_id = ?', userId).toArray()
        .length > 0
    )
  }

  private isClosed(): boolean {
    return this.setting('closed') === '1'
  }

  private slowModeSeconds(): number {
    return Number(this.setting('slow_mode') ?? 0)
  }

  private blockedTerms(): string[] {
    return JSON.parse(this.setting('blocked_terms') ?? '[]') as string[]
  }

  private saveRoom(room: ChatRoomSettings) {
    this.saveSetting('session_id', room.sessionId)
    this.saveSetting('host_id', room.hostId)
    this.saveSetting('blocked_terms', JSON.stringify(room.blockedTerms))
  }

  private setting(key: string): string | null {
    return (
      this.sql
        .exec<{
          value: string
        }>('SELECT value FROM settings WHERE key = ?', key)
        .toArray()[0]?.value ?? null
    )
  }

  private saveSetting(key: string, value: string) {
    this.sql.exec(
      `INSERT INTO settings (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      key,
      value,
    )
  }
}

function toMessage(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    userId: row.user_id,
    displayName: row.display_name,
    text: row.text,
    sentAt: new Date(row.sent_at).toISOString(),
    isQuestion: row.is_question === 1,
    isAnswered: row.answered_at !== null,
    isHeld: row.is_held === 1,
  }
}

function refused(
  status: number,
  code: string,
  message: string,
): ModerationOutcome {
  return { ok: false, status, code, message }
}

/** Nobody moderates the host or themselves; only the host moderates a moderator. */
function checkTarget(
  actor: ChatMember,
  userId: string,
  target: ModerationTarget | null,
): ModerationOutcome | null {
  if (userId === actor.userId)
    return refused(
      400,
      'cannot_moderate_self',
      'You cannot do that to yourself.',
    )
  if (target?.role === 'host')
    return refused(
      403,
      'cannot_moderate_host',
      'Nobody can do that to the host.',
    )
  if (target?.isModerator && actor.role !== 'host')
    return refused(
      403,
      'cannot_moderate_moderator',
      'Only the host can do that to a moderator.',
    )
  return null
}
