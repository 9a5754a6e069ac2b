import * as z from 'zod'
import { normalizeChatText } from '../utils/chat-text'

/**
 * Session chat's protocol and rules (SPEC §2a), with no storage and no I/O: the SessionChat
 * Durable Object (workers/session-chat.ts) keeps the state and asks these functions what to do.
 */

/** How many messages a client gets on connect. */
export const HISTORY_ON_CONNECT = 200
/** At most this many messages are replayed to a client resuming after a gap. */
export const MAX_RESUME = 2_000
export const MAX_MESSAGE_CHARS = 500
/** A frame is JSON around at most 500 characters: anything far bigger is refused unread. */
export const MAX_FRAME_BYTES = 8 * 1024
/** The per-user limit: 5 messages in any 10 seconds. */
export const SEND_LIMIT = { count: 5, windowMs: 10_000 } as const
export const SLOW_MODE_SECONDS = { min: 5, max: 120 } as const
export const TIMEOUT_MINUTES = { min: 1, max: 60 } as const

export type ChatRole = 'host' | 'presenter' | 'viewer'

/** Who is on a socket, as the upgrade route established it from the session cookie and Postgres. */
export interface ChatMember {
  userId: string
  displayName: string
  role: ChatRole
  isModerator: boolean
}

/** What the object needs to know about its session, handed over on every upgrade. */
export interface ChatRoomSettings {
  sessionId: string
  hostId: string
  blockedTerms: string[]
}

export interface ChatMessage {
  id: number
  userId: string
  displayName: string
  text: string
  /** ISO time. */
  sentAt: string
  isQuestion: boolean
  isAnswered: boolean
  /** Only ever true in frames to the author: the message holds a blocked term. */
  isHeld: boolean
}

export type ServerFrame =
  | { type: 'welcome'; member: ChatMember; slowModeSeconds: number }
  | { type: 'message'; message: ChatMessage }
  | { type: 'hidden'; id: number }
  | { type: 'question'; id: number; isAnswered: boolean }
  | ({ type: 'moderation' } & ModerationNotice)
  | { type: 'ended' }
  | { type: 'error'; code: string; message: string; retryAfter?: number }

export type ModerationNotice =
  | { action: 'slow'; seconds: number }
  | { action: 'timeout'; userId: string; until: string }
  | { action: 'ban'; userId: string }
  | { action: 'unban'; userId: string }
  | { action: 'moderator'; userId: string; isModerator: boolean }

const messageId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)

// Exported so the authorization matrix and the fuzz suite enumerate every frame type.
export const ClientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('send'), text: z.string() }),
  z.object({
    type: z.literal('resume'),
    after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  }),
  z.object({ type: z.literal('question'), id: messageId }),
])
export type ClientFrame = z.infer<typeof ClientFrame>

export type Refusal = { code: string; message: string; retryAfter?: number }

/** A frame from a client, or why it is refused (never an exception: the socket stays usable). */
export function parseClientFrame(
  raw: string | ArrayBuffer,
): { frame: ClientFrame } | { refusal: Refusal } {
  if (typeof raw !== 'string')
    return refuse('bad_frame', 'Frames are JSON text, not binary.')
  // A UTF-16 unit is at least one UTF-8 byte: count bytes only when it could matter.
  if (
    raw.length > MAX_FRAME_BYTES ||
    (raw.length * 3 > MAX_FRAME_BYTES &&
      new TextEncoder().encode(raw).length > MAX_FRAME_BYTES)
  )
    return refuse('frame_too_large', 'That frame is too large.')
  let data: unknown
  try {
    data = JSON.parse(raw)
  } catch {
    return refuse('bad_frame', 'Frames are JSON objects.')
  }
  const parsed = ClientFrame.safeParse(data)
  if (!parsed.success)
    return refuse(
      'bad_frame',
      'Unknown frame: send {"type":"send","text":…}, {"type":"resume","after":…} or {"type":"question","id":…}.',
    )
  return { frame: parsed.data }
}

function refuse(code: string, message: string) {
  return { refusal: { code, message } }
}

/** Characters as a person counts them (an emoji is one), so the limit means what it says. */
export function countCharacters(text: string): number {
  let count = 0
  for (const _ of text) count += 1
  return count
}

/** Validates a message's text; returns the normalized text or the refusal. */
export function checkMessageText(
  raw: string,
): { text: string } | { refusal: Refusal } {
  const text = normalizeChatText(raw)
  if (text.length === 0) return refuse('empty_message', 'Type a message first.')
  const length = countCharacters(text)
  if (length > MAX_MESSAGE_CHARS)
    return refuse(
      'message_too_long',
      `Messages are at most ${MAX_MESSAGE_CHARS} characters; this one has ${length}.`,
    )
  return { text }
}

export function canModerate(member: Pick<ChatMember, 'role' | 'isModerator'>) {
  return member.role === 'host' || member.isModerator
}

export interface SendState {
  now: number
  /** When this user's recent messages were sent (ms), any order. */
  recentSends: number[]
  slowModeSeconds: number
  /** ms; 0 when not timed out. */
  timedOutUntil: number
}

/** May this member send now? Host and moderators are exempt from slow mode, not from the limit. */
export function decideSend(
  member: ChatMember,
  state: SendState,
): Refusal | null {
  const { now } = state
  if (state.timedOutUntil > now) {
    const minutes = Math.ceil((state.timedOutUntil - now) / 60_000)
    return {
      code: 'timed_out',
      message: `A moderator timed you out: you can chat again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      retryAfter: Math.ceil((state.timedOutUntil - now) / 1000),
    }
  }
  const inWindow = state.recentSends
    .filter((t) => t > now - SEND_LIMIT.windowMs)
    .sort((a, b) => a - b)
  if (inWindow.length >= SEND_LIMIT.count) {
    const freeAt =
      inWindow[inWindow.length - SEND_LIMIT.count]! + SEND_LIMIT.windowMs
    return {
      code: 'rate_limited',
      message: `Slow down: at most ${SEND_LIMIT.count} messages in ${SEND_LIMIT.windowMs / 1000} seconds.`,
      retryAfter: Math.max(1, Math.ceil((freeAt - now) / 1000)),
    }
  }
  const last = Math.max(0, ...state.recentSends)
  if (
    state.slowModeSeconds > 0 &&
    !canModerate(member) &&
    last > now - state.slowModeSeconds * 1000
  ) {
    const wait = Math.ceil((last + state.slowModeSeconds * 1000 - now) / 1000)
    return {
      code: 'slow_mode',
      message: `Slow mode is on: one message every ${state.slowModeSeconds} seconds. Wait ${wait} s.`,
      retryAfter: wait,
    }
  }
  return null
}

/** Whether `text` contains one of the host's blocked terms (case-insensitive, anywhere). */
export function containsBlockedTerm(text: string, terms: readonly string[]) {
  if (terms.length === 0) return false
  const haystack = text.toLocaleLowerCase()
  return terms.some((term) => haystack.includes(term.toLocaleLowerCase()))
}

/** `POST /api/sessions/:id/moderation`, per SPEC §6 plus `answer` for the questions queue. */
export const ModerationCommand = z.discriminatedUnion('action', [
  z.object({ action: z.literal('hide'), messageId }),
  z.object({ action: z.literal('answer'), messageId }),
  z.object({
    action: z.literal('timeout'),
    userId: z.uuid({ error: 'must be the id of a user' }),
    minutes: z
      .number()
      .int()
      .min(TIMEOUT_MINUTES.min, 'A timeout is 1 to 60 minutes.')
      .max(TIMEOUT_MINUTES.max, 'A timeout is 1 to 60 minutes.'),
  }),
  z.object({
    action: z.literal('ban'),
    userId: z.uuid({ error: 'must be the id of a user' }),
  }),
  z.object({
    action: z.literal('unban'),
    userId: z.uuid({ error: 'must be the id of a user' }),
  }),
  z.object({
    action: z.literal('slow'),
    // 0 turns slow mode off.
    seconds: z
      .number()
      .int()
      .refine(
        (s) =>
          s === 0 || (s >= SLOW_MODE_SECONDS.min && s <= SLOW_MODE_SECONDS.max),
        'Slow mode is 5 to 120 seconds, or 0 to turn it off.',
      ),
  }),
])
export type ModerationCommand = z.infer<typeof ModerationCommand>
