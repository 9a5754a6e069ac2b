import { sql } from 'drizzle-orm'
import * as z from 'zod'
import type { Tx } from '../db/client.server'
import { Rfc3339, type WebhookEnvelope } from '../utils/validation'
import type { WebhookHandler } from './webhook-handlers.server'

/**
 * What 100ms's session, peer and HLS webhooks change (SPEC §5): the peer intervals credits are paid
 * from, and the session's HLS state. Every handler is order-tolerant and idempotent: a leave that
 * arrives before its join, a duplicate, or a replay 30 days later ends in the same rows.
 * Events for rooms that are not ours (or whose data does not match) change nothing.
 */

// Go's zero time is how 100ms says "not set" (peer.join.failure's joined_at, …).
const OptionalTime = z
  .string()
  .optional()
  .transform((value) =>
    !value || value.startsWith('0001-01-01') ? undefined : value,
  )
  .pipe(Rfc3339.optional())

const PeerData = z.object({
  room_id: z.string().min(1),
  peer_id: z.string().min(1).max(100),
  user_id: z.string().optional(),
  role: z.string().max(100).default('viewer'),
  joined_at: OptionalTime,
  left_at: OptionalTime,
})

const RoleChangeData = PeerData.extend({ role_changed_at: OptionalTime })

const SessionData = z.object({
  room_id: z.string().min(1),
  session_id: z.string().min(1),
  session_stopped_at: OptionalTime,
})

const HlsData = z.object({
  room_id: z.string().min(1),
  url: z.string().optional(),
})

/**
 * Inserts or completes the peer's interval. `COALESCE` keeps what an earlier event set, so the join
 * and the leave each fill their half whichever comes first, and a repeat fills nothing new. A leave
 * carries `joined_at` too, so a lost join still leaves a whole interval.
 */
const applyPeerEvent: WebhookHandler = async (tx, event) => {
  const data = PeerData.parse(event.data)
  await tx.execute(sql`
    insert into peer_intervals (peer_id, session_id, user_id, role, joined_at, left_at)
    select ${data.peer_id}, s.id,
      (select u.id from users u where u.id::text = ${data.user_id ?? ''}),
      ${data.role}, ${data.joined_at ?? null}::timestamptz, ${data.left_at ?? null}::timestamptz
    from live_sessions s where s.hms_room_id = ${data.room_id}
    on conflict (peer_id) do update set
      joined_at = coalesce(peer_intervals.joined_at, excluded.joined_at),
      left_at = coalesce(peer_intervals.left_at, excluded.left_at)`)
}

/** A role change applies only if it is newer than the last one applied to the peer. */
const applyRoleChange: WebhookHandler = async (tx, event) => {
  const data = RoleChangeData.parse(event.data)
  const changedAt = data.role_changed_at ?? event.timestamp
  await tx.execute(sql`
    insert into peer_intervals (peer_id, session_id, user_id, role, joined_at, role_changed_at)
    select ${data.peer_id}, s.id,
      (select u.id from users u where u.id::text = ${data.user_id ?? ''}),
      ${data.role}, ${data.joined_at ?? null}::timestamptz, ${changedAt}::timestamptz
    from live_sessions s where s.hms_room_id = ${data.room_id}
    on conflict (peer_id) do update set
      role = excluded.role,
      role_changed_at = excluded.role_changed_at,
      joined_at = coalesce(peer_intervals.joined_at, excluded.joined_at)
    where peer_intervals.role_changed_at is null
       or peer_intervals.role_changed_at < excluded.role_changed_at`)
}

const applySessionOpen: WebhookHandler = async (tx, event) => {
  const data = SessionData.parse(event.data)
  await tx.execute(sql`
    update live_sessions set hms_session_id = ${data.session_id}
    where hms_room_id = ${data.room_id}`)
}

/** When 100ms closes a room's session everyone has left: close any interval a lost leave left open. */
const applySessionClose: WebhookHandler = async (tx, event) => {
  const data = SessionData.parse(event.data)
  const stoppedAt = data.session_stopped_at ?? event.timestamp
  await tx.execute(sql`
    update peer_intervals p set left_at = greatest(p.joined_at, ${stoppedAt}::timestamptz)
    from live_sessions s
    where s.hms_room_id = ${data.room_id} and p.session_id = s.id
      and p.left_at is null and p.joined_at is not null
      and p.joined_at <= ${stoppedAt}::timestamptz`)
}

/** HLS state moves only forward in event time: an older event never undoes a newer one. */
function hlsHandler(running: boolean): WebhookHandler {
  return async (tx, event) => {
    const data = HlsData.parse(event.data)
    await setHlsState(
      tx,
      event,
      data.room_id,
      running ? (data.url ?? null) : null,
    )
  }
}

async function setHlsState(
  tx: Tx,
  event: WebhookEnvelope,
  roomId: string,
  url: string | null,
) {
  await tx.execute(sql`
    update live_sessions set
      hls_status = ${url ? 'running' : 'off'},
      hls_url = ${url},
      hls_changed_at = ${event.timestamp}::timestamptz
    where hms_room_id = ${roomId}
      and (hls_changed_at is null or hls_changed_at <= ${event.timestamp}::timestamptz)`)
}

export const sessionEventHandlers = {
  'session.open.success': applySessionOpen,
  'session.close.success': applySessionClose,
  'peer.join.success': applyPeerEvent,
  'peer.leave.success': applyPeerEvent,
  'role.change.success': applyRoleChange,
  'hls.started.success': hlsHandler(true),
  'hls.stopped.success': hlsHandler(false),
  'hls.failure': hlsHandler(false),
} satisfies Record<string, WebhookHandler>
