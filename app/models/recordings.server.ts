import { and, eq, inArray, sql, type SQL } from 'drizzle-orm'
import * as z from 'zod'
import { queryRows, type Db, type Tx } from '../db/client.server'
import { isUniqueViolation } from '../db/errors'
import { recordings } from '../db/schema'
import type {
  Hms,
  Recording as HmsRecording,
  RecordingAsset,
} from '../services/hms.server'
import { log } from '../services/monitoring.server'
import { DomainError, isUnavailable, errorMessage } from '../utils/errors'
import {
  PG_INTEGER_MAX,
  Rfc3339,
  type WebhookEnvelope,
} from '../utils/validation'
import { isUuid } from '../utils/ids'
import { getParticipantRole, getSessionById } from './live-sessions.server'
import type { WebhookHandler } from './webhook-handlers.server'

/**
 * Recordings (SPEC §4). A row is written first (status `recording`: the partial unique index
 * `recordings_one_active_per_session` decides concurrent starts), then 100ms is asked; if 100ms
 * fails the row is removed again. From then on only 100ms's webhooks and the reconciliation job move
 * it, forward only: recording → processing → completed | failed. Terminal states are final.
 *
 * Order tolerance: every change carries an ordering key (status rank, event time, event type). The
 * event with the greatest key so far sets the values it carries; any other event only fills values
 * that are still empty. So duplicates change nothing, a late event never moves a recording back,
 * and any delivery order of the same events ends in the same row.
 */

export type RecordingStatus =
  | 'recording'
  | 'processing'
  | 'completed'
  | 'failed'

export interface RecordingView {
  id: string
  sessionId: string
  sessionTitle: string
  roomCode: string
  status: RecordingStatus
  startedAt: string | null
  stoppedAt: string | null
  durationSeconds: number | null
  sizeBytes: number | null
  resolution: { width: number; height: number } | null
  format: 'mp4' | 'hls' | null
  failureReason: string | null
  /** The viewer's role in that session. */
  role: 'host' | 'presenter' | 'viewer'
  createdAt: string
}

export interface RecordingListQuery {
  status?: RecordingStatus
  role?: 'host' | 'participant'
  /** ISO date (`2026-05-01`, whole day) or date-time; on the recording's creation time. */
  from?: string
  to?: string
  /** Part of the session title. */
  q?: string
  sort?: 'newest' | 'oldest' | 'longest'
  limit?: number
  cursor?: string
}

type RecordingRow = typeof recordings.$inferSelect

const RANK: Record<RecordingStatus, number> = {
  recording: 1,
  processing: 2,
  completed: 3,
  failed: 3,
}
const isTerminal = (status: RecordingStatus) =>
  status === 'completed' || status === 'failed'

/** A recording is "stuck" when nothing has changed it for this long (SPEC §4). */
export const STUCK_AFTER_HOURS = 2
/** How far back the job asks 100ms to replay failed deliveries (runs hourly; overlap is harmless). */
const REPLAY_WINDOW_MS = 3 * 60 * 60 * 1000
// A beam.started.success may be applied before the start call has written the 100ms id: it may
// adopt the pending row of its room, unless it is older than the row (a late event of an old job).
const ADOPTION_SLACK_SECONDS = 10

// ---- controls ------------------------------------------------------------------------------------

/**
 * The host starts a recording of a live session. 404 for strangers, 403 for participants, 410 once
 * the session ended, 409 `recording_active` while one is running.
 */
export async function startRecording(
  db: Db,
  hms: Hms,
  actor: { id: string },
  sessionId: string,
): Promise<RecordingView> {
  const session = await requireHostedSession(db, actor, sessionId)
  if (session.status !== 'live')
    throw new DomainError('session_ended', 'This session has ended.', 410)
  let row: { id: string } | undefined
  try {
    ;[row] = await db
      .insert(recordings)
      .values({ sessionId: session.id, status: 'recording' })
      .returning({ id: recordings.id })
  } catch (error) {
    if (isUniqueViolation(error, 'recordings_one_active_per_session'))
      throw recordingActive()
    throw error
  }
  const id = row!.id
  let started: HmsRecording
  try {
    started = await hms.startRecording(session.hmsRoomId)
  } catch (error) {
    // Nothing is recording: the row goes. If 100ms did not answer, it may have started anyway.
    await db.delete(recordings).where(eq(recordings.id, id))
    // A 100ms that is down may have started it anyway; one that is not configured did nothing.
    if (isUnavailable(error) && error.code !== 'video_not_configured')
      await stopQuietly(hms, session.hmsRoomId)
    throw error
  }
  try {
    await db
      .update(recordings)
      .set({
        hmsRecordingId: started.id,
        hmsSessionId: sql`coalesce(${recordings.hmsSessionId}, ${started.sessionId || null})`,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(recordings.id, id),
          sql`(${recordings.hmsRecordingId} is null or ${recordings.hmsRecordingId} = ${started.id})`,
        ),
      )
  } catch (error) {
    // The row cannot say which recording it is: stop it rather than record unknowingly.
    await stopQuietly(hms, session.hmsRoomId)
    await db
      .delete(recordings)
      .where(eq(recordings.id, id))
      .catch(() => {})
    throw error
  }
  return requireRecordingView(db, actor.id, id)
}

/** The host stops the running recording; 100ms's webhooks then finish it. 409 when none runs. */
export async function stopRecording(
  db: Db,
  hms: Hms,
  actor: { id: string },
  sessionId: string,
): Promise<RecordingView> {
  const session = await requireHostedSession(db, actor, sessionId)
  const [active] = await db
    .select({ id: recordings.id })
    .from(recordings)
    .where(
      and(
        eq(recordings.sessionId, session.id),
        eq(recordings.status, 'recording'),
      ),
    )
  if (!active)
    throw new DomainError(
      'no_active_recording',
      'Nothing is being recorded in this session.',
      409,
    )
  await hms.stopRecording(session.hmsRoomId)
  // Not an event: no ordering key, so 100ms's beam.stopped.success still sets the stop time.
  await db
    .update(recordings)
    .set({ status: 'processing', updatedAt: sql`now()` })
    .where(
      and(eq(recordings.id, active.id), eq(recordings.status, 'recording')),
    )
  return requireRecordingView(db, actor.id, active.id)
}

async function requireHostedSession(
  db: Db,
  actor: { id: string },
  sessionId: string,
) {
  const session = await getSessionById(db, sessionId)
  if (session && session.hostId === actor.id) return session
  if (session && (await getParticipantRole(db, session.id, actor.id)))
    throw new DomainError(
      'not_host',
      'Only the host of this session can do that.',
      403,
    )
  throw new DomainError('not_found', 'There is no such session.', 404)
}

async function stopQuietly(hms: Hms, roomId: string) {
  try {
    await hms.stopRecording(roomId)
  } catch (error) {
    log('error', 'a recording may be running without a row', {
      roomId,
      error: errorMessage(error),
    })
  }
}

function recordingActive() {
  return new DomainError(
    'recording_active',
    'This session is already being recorded.',
    409,
  )
}

// ---- reading -------------------------------------------------------------------------------------

type ViewRow = {
  id: string
  session_id: string
  session_title: string
  room_code: string
  status: RecordingStatus
  started_at: string | Date | null
  stopped_at: string | Date | null
  duration_seconds: number | null
  size_bytes: string | number | null
  width: number | null
  height: number | null
  format: 'mp4' | 'hls' | null
  failure_reason: string | null
  role: RecordingView['role']
  created_at: string | Date
  hms_recording_id: string | null
  hms_asset_id: string | null
  asset_path: string | null
  sort_created: string
}

/** Recordings `userId` may see: of sessions they host or took part in, with their role. */
const VIEW_SELECT = (userId: string) => sql`
  select r.id, r.session_id, s.title as session_title, s.room_code, r.status, r.started_at,
    r.stopped_at, r.duration_seconds, r.size_bytes, r.width, r.height, r.format, r.failure_reason,
    p.role, r.created_at, r.hms_recording_id, r.hms_asset_id, r.asset_path,
    (extract(epoch from r.created_at) * 1000000)::bigint::text as sort_created
  from recordings r
  join live_sessions s on s.id = r.session_id
  join session_participants p on p.session_id = r.session_id and p.user_id = ${userId}`

function toView(row: ViewRow): RecordingView {
  return {
    id: row.id,
    sessionId: row.session_id,
    sessionTitle: row.session_title,
    roomCode: row.room_code,
    status: row.status,
    startedAt: iso(row.started_at),
    stoppedAt: iso(row.stopped_at),
    durationSeconds: row.duration_seconds,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    resolution:
      row.width && row.height ? { width: row.width, height: row.height } : null,
    format: row.format,
    failureReason: row.failure_reason,
    role: row.role,
    createdAt: iso(row.created_at)!,
  }
}

async function findViewRow(
  db: Db | Tx,
  userId: string,
  id: string,
): Promise<ViewRow | null> {
  if (!isUuid(id) || !isUuid(userId)) return null
  const [row] = await queryRows<ViewRow>(
    db,
    sql`${VIEW_SELECT(userId)} where r.id = ${id}`,
  )
  return row ?? null
}

/** A recording `userId` may see (host or participant of its session); 404 otherwise. */
export async function requireRecordingView(db: Db, userId: string, id: string) {
  const row = await findViewRow(db, userId, id)
  if (!row) throw recordingNotFound()
  return toView(row)
}

function recordingNotFound() {
  return new DomainError('not_found', 'There is no such recording.', 404)
}

/**
 * The recordings of sessions `userId` hosted or attended, a page at a time (keyset: a cursor is
 * the sort key of the last row). Filters: status, role (host / participant), creation date range,
 * title search.
 */
export async function listRecordings(
  db: Db,
  userId: string,
  q: RecordingListQuery,
): Promise<{ recordings: RecordingView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(q.limit ?? 20, 1), 100)
  const sort = q.sort ?? 'newest'
  if (!isUuid(userId)) return { recordings: [], nextCursor: null }
  const where: SQL[] = [sql`true`]
  if (q.status) where.push(sql`r.status = ${q.status}`)
  if (q.role === 'host') where.push(sql`p.role = 'host'`)
  if (q.role === 'participant') where.push(sql`p.role <> 'host'`)
  if (q.from) where.push(sql`r.created_at >= ${rangeStart(q.from)}`)
  if (q.to) where.push(sql`r.created_at < ${rangeEnd(q.to)}`)
  if (q.q?.trim())
    where.push(
      sql`s.title ilike ${`%${q.q.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`,
    )
  const created = sql`(extract(epoch from r.created_at) * 1000000)::bigint`
  const longest = sql`coalesce(r.duration_seconds, -1)`
  if (q.cursor) {
    const key = decodeCursor(q.cursor, sort)
    if (sort === 'longest')
      where.push(
        sql`(${longest}, ${created}, r.id) < (${key[0]}::int, ${key[1]}::bigint, ${key[2]}::uuid)`,
      )
    else if (sort === 'oldest')
      where.push(sql`(${created}, r.id) > (${key[0]}::bigint, ${key[1]}::uuid)`)
    else
      where.push(sql`(${created}, r.id) < (${key[0]}::bigint, ${key[1]}::uuid)`)
  }
  const order =
    sort === 'longest'
      ? sql`${longest} desc, ${created} desc, r.id desc`
      : sort === 'oldest'
        ? sql`${created} asc, r.id asc`
        : sql`${created} desc, r.id desc`
  const rows = await queryRows<ViewRow>(
    db,
    sql`${VIEW_SELECT(userId)} where ${sql.join(where, sql` and `)}
    order by ${order} limit ${limit + 1}`,
  )
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    recordings: page.map(toView),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor(
            sort === 'longest'
              ? [last.duration_seconds ?? -1, last.sort_created, last.id]
              : [last.sort_created, last.id],
          )
        : null,
  }
}

function encodeCursor(key: Array<string | number>): string {
  return btoa(JSON.stringify(key))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

function decodeCursor(cursor: string, sort: string): Array<string | number> {
  const invalid = new DomainError(
    'invalid_cursor',
    'That page link is out of date. Start again from the first page.',
    400,
    { cursor: 'must be a cursor from a previous page of this list' },
  )
  let key: unknown
  try {
    key = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')))
  } catch {
    throw invalid
  }
  // Within Postgres's `integer` and `bigint`: a forged cursor out of range would be a database error.
  const microseconds = z.string().regex(/^\d{1,18}$/)
  const seconds = z.number().int().min(-1).max(PG_INTEGER_MAX)
  const parsed = (
    sort === 'longest'
      ? z.tuple([seconds, microseconds, z.uuid()])
      : z.tuple([microseconds, z.uuid()])
  ).safeParse(key)
  if (!parsed.success) throw invalid
  return parsed.data
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
function rangeStart(value: string): string {
  return DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value
}
/** Exclusive end: a date means the whole of that day (UTC). */
function rangeEnd(value: string): string {
  if (!DATE_ONLY.test(value)) return value
  const next = new Date(`${value}T00:00:00Z`)
  next.setUTCDate(next.getUTCDate() + 1)
  return next.toISOString()
}

/**
 * One recording for someone who may see it (404 otherwise), with a fresh presigned playback URL from
 * 100ms when it is completed. The URL is never stored.
 */
export async function getRecording(
  db: Db,
  hms: Hms,
  userId: string,
  id: string,
): Promise<RecordingView & { playbackUrl: string | null }> {
  const row = await findViewRow(db, userId, id)
  if (!row) throw recordingNotFound()
  let playbackUrl: string | null = null
  if (row.status === 'completed') {
    const assetId = row.hms_asset_id ?? (await resolveAssetId(db, hms, row))
    if (assetId) playbackUrl = (await hms.getPresignedUrl(assetId)).url
  }
  return { ...toView(row), playbackUrl }
}

/** beam.recording.success names no asset: look it up once through the recording, and keep its id. */
async function resolveAssetId(
  db: Db,
  hms: Hms,
  row: ViewRow,
): Promise<string | null> {
  if (!row.hms_recording_id) return null
  const recording = await hms.getRecording(row.hms_recording_id)
  const asset = pickAsset(recording.assets, row.asset_path, row.format)
  if (!asset) return null
  await db
    .update(recordings)
    .set({ hmsAssetId: asset.id })
    .where(
      and(eq(recordings.id, row.id), sql`${recordings.hmsAssetId} is null`),
    )
  return asset.id
}

/** The playable file: the one at the path we know, else the composite (MP4) or the VOD (HLS). */
function pickAsset(
  assets: RecordingAsset[],
  path: string | null,
  format: 'mp4' | 'hls' | null,
): RecordingAsset | null {
  return (
    (path && assets.find((a) => a.path === path)) ||
    (format && assets.find((a) => a.format === format)) ||
    assets.find((a) => a.type === 'room-composite') ||
    assets.find((a) => a.type === 'room-vod') ||
    assets.find((a) => a.format !== null) ||
    null
  )
}

/**
 * The host deletes a recording: the row and with it our reference to the 100ms asset. 100ms's API
 * (reference/100ms/api) has no call that deletes a recording asset, so the file itself stays in
 * 100ms's (or the configured bucket's) storage until its retention removes it. Strangers and other
 * hosts get 404, participants 403; a running recording must be stopped first (409).
 */
export async function deleteRecording(
  db: Db,
  _hms: Hms,
  userId: string,
  id: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await findViewRow(tx, userId, id)
    if (!row) throw recordingNotFound()
    if (row.role !== 'host')
      throw new DomainError(
        'not_host',
        'Only the host of this session can delete its recordings.',
        403,
      )
    const [deleted] = await tx
      .delete(recordings)
      .where(
        and(
          eq(recordings.id, id),
          inArray(recordings.status, ['processing', 'completed', 'failed']),
        ),
      )
      .returning({ id: recordings.id })
    if (!deleted)
      throw new DomainError(
        'recording_active',
        'Stop the recording before deleting it.',
        409,
      )
  })
}

/**
 * Account deletion: the recordings of sessions the user hosted go with the account (the host owns
 * them; they show the host and the people they invited). Called inside the deletion transaction.
 */
export async function deleteHostedRecordings(
  tx: Tx,
  userId: string,
): Promise<void> {
  await tx.execute(sql`
    delete from recordings r using live_sessions s
    where s.id = r.session_id and s.host_id = ${userId}`)
}

// ---- state changes (webhooks and reconciliation) -----------------------------------------------

interface RecordingFields {
  hmsSessionId?: string | null
  hmsBeamId?: string | null
  hmsAssetId?: string | null
  assetPath?: string | null
  startedAt?: Date | null
  stoppedAt?: Date | null
  durationSeconds?: number | null
  sizeBytes?: number | null
  width?: number | null
  height?: number | null
  format?: 'mp4' | 'hls' | null
  failureReason?: string | null
}
const FIELD_NAMES = [
  'hmsSessionId',
  'hmsBeamId',
  'hmsAssetId',
  'assetPath',
  'startedAt',
  'stoppedAt',
  'durationSeconds',
  'sizeBytes',
  'width',
  'height',
  'format',
  'failureReason',
] as const satisfies ReadonlyArray<keyof RecordingFields>

interface StateChange {
  status: RecordingStatus
  at: Date
  /** The event type (or `reconcile`): the last tie-break of the ordering key. */
  source: string
  fields: RecordingFields
}

/**
 * Applies one change to a locked row, forward only (see the module comment). Returns whether the
 * row changed.
 */
async function applyChange(
  tx: Tx,
  row: RecordingRow,
  change: StateChange,
): Promise<boolean> {
  const current = row.status
  // A terminal state is final: the other terminal outcome changes nothing at all.
  if (
    isTerminal(current) &&
    isTerminal(change.status) &&
    current !== change.status
  )
    return false
  const status =
    !isTerminal(current) && RANK[change.status] > RANK[current]
      ? change.status
      : current
  const rank = RANK[change.status]
  const wins =
    compareKeys(
      [rank, change.at.getTime(), change.source],
      [
        row.appliedRank,
        row.appliedEventAt?.getTime() ?? -Infinity,
        row.appliedEventType ?? '',
      ],
    ) >= 0
  const next: Record<string, unknown> = {}
  for (const name of FIELD_NAMES) {
    const incoming = change.fields[name] ?? null
    const existing = row[name] ?? null
    const value = wins ? (incoming ?? existing) : (existing ?? incoming)
    if (!sameValue(value, existing)) next[name] = value
  }
  if (status !== current) next.status = status
  const keyChanges =
    wins &&
    (row.appliedRank !== rank ||
      row.appliedEventAt?.getTime() !== change.at.getTime() ||
      row.appliedEventType !== change.source)
  if (Object.keys(next).length === 0 && !keyChanges) return false
  await tx
    .update(recordings)
    .set({
      ...next,
      ...(wins
        ? {
            appliedRank: rank,
            appliedEventAt: change.at,
            appliedEventType: change.source,
          }
        : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(recordings.id, row.id))
  return true
}

function compareKeys(
  a: [number, number, string],
  b: [number, number, string],
): number {
  if (a[0] !== b[0]) return a[0] - b[0]
  if (a[1] !== b[1]) return a[1] - b[1]
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  return a === b
}

async function lockByHmsId(tx: Tx, hmsRecordingId: string) {
  const [row] = await tx
    .select()
    .from(recordings)
    .where(eq(recordings.hmsRecordingId, hmsRecordingId))
    .for('update')
  return row ?? null
}

/** The newest recording of a 100ms room's session (recording.success/failed name no job). */
async function lockByRoomSession(tx: Tx, roomId: string, sessionId: string) {
  const [row] = await tx
    .select()
    .from(recordings)
    .where(
      sql`${recordings.id} = (
        select r.id from recordings r join live_sessions s on s.id = r.session_id
        where s.hms_room_id = ${roomId} and r.hms_session_id = ${sessionId}
        order by r.created_at desc, r.id desc limit 1)`,
    )
    .for('update')
  return row ?? null
}

/** A start whose answer has not been written yet: the room's pending row takes the 100ms id. */
async function adoptPending(
  tx: Tx,
  roomId: string,
  hmsRecordingId: string,
  at: Date,
) {
  const [row] = await tx
    .select()
    .from(recordings)
    .where(
      sql`${recordings.id} = (
        select r.id from recordings r join live_sessions s on s.id = r.session_id
        where s.hms_room_id = ${roomId} and r.status = 'recording'
          and r.hms_recording_id is null
          and r.created_at <= ${at}::timestamptz + make_interval(secs => ${ADOPTION_SLACK_SECONDS}))`,
    )
    .for('update')
  if (!row) return null
  const [adopted] = await tx
    .update(recordings)
    .set({ hmsRecordingId })
    .where(eq(recordings.id, row.id))
    .returning()
  return adopted ?? null
}

// 100ms's fields (reference/100ms/webhooks): ids are any non-empty string, times RFC 3339 with
// 0–9 fractional digits or Go's zero time for "not set", numbers integers.
const Time = z
  .string()
  .nullish()
  .transform((value) =>
    !value || value.startsWith('0001-01-01') ? undefined : value,
  )
  .pipe(Rfc3339.optional())
const Str = z
  .string()
  .nullish()
  .transform((value) => value || undefined)
// Integers in the samples, strings in some doc tables (README): accept both.
const Num = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+$/).transform(Number),
  ])
  .nullish()
  .transform((value) => value ?? undefined)
const Dim = z
  .number()
  .int()
  .positive()
  .nullish()
  .transform((value) => value ?? undefined)

const RecordingEventData = z.object({
  room_id: z.string().min(1),
  session_id: Str,
  job_id: Str,
  recording_id: Str,
  beam_id: Str,
  metadata_timestamp: Time,
  started_at: Time,
  stopped_at: Time,
  duration: Num,
  size: Num,
  max_width: Dim,
  max_height: Dim,
  recording_path: Str,
  hls_vod_recording_path: Str,
  hls_vod_recording_size: Num,
  error: Str,
  error_type: Str,
  error_message: Str,
})
type RecordingEventData = z.infer<typeof RecordingEventData>

function formatOf(path: string | undefined): 'mp4' | 'hls' | undefined {
  const extension = path
    ? /\.([a-z0-9]+)(?:\?|$)/i.exec(path)?.[1]?.toLowerCase()
    : undefined
  if (extension === 'mp4') return 'mp4'
  if (extension === 'm3u8') return 'hls'
  return undefined
}

function beamFields(data: RecordingEventData): RecordingFields {
  return {
    hmsSessionId: data.session_id,
    hmsBeamId: data.beam_id,
    width: data.max_width && data.max_height ? data.max_width : undefined,
    height: data.max_width && data.max_height ? data.max_height : undefined,
  }
}

function failureReason(data: RecordingEventData): string {
  return (
    data.error_message ??
    ([data.error_type, data.error].filter(Boolean).join(': ') ||
      'The video service could not record this session.')
  )
}

/**
 * How each event moves a recording, and how it finds it: beam events by `job_id` (which is the REST
 * recording id; `recording_id` in beam.recording.success and hls.recording.success), the v1
 * recording.* events by their room and 100ms session.
 */
const INTERPRETERS: Record<
  string,
  (
    data: RecordingEventData,
    event: WebhookEnvelope,
  ) => { id?: string; status: RecordingStatus; fields: RecordingFields }
> = {
  'beam.started.success': (data, event) => ({
    id: data.job_id,
    status: 'recording',
    fields: {
      ...beamFields(data),
      startedAt: data.started_at ?? data.metadata_timestamp ?? event.timestamp,
    },
  }),
  'beam.stopped.success': (data, event) => ({
    id: data.job_id,
    status: 'processing',
    fields: {
      ...beamFields(data),
      stoppedAt: data.stopped_at ?? data.metadata_timestamp ?? event.timestamp,
      durationSeconds: data.duration,
    },
  }),
  'beam.recording.success': (data) => ({
    id: data.recording_id ?? data.job_id,
    status: 'completed',
    fields: {
      ...beamFields(data),
      assetPath: data.recording_path,
      format: formatOf(data.recording_path),
      sizeBytes: data.size,
      durationSeconds: data.duration,
      startedAt: data.started_at,
      stoppedAt: data.stopped_at,
    },
  }),
  'beam.failure': (data) => ({
    id: data.job_id,
    status: 'failed',
    fields: {
      ...beamFields(data),
      durationSeconds: data.duration,
      failureReason: failureReason(data),
    },
  }),
  'hls.recording.success': (data) => ({
    id: data.recording_id ?? data.job_id,
    status: 'completed',
    fields: {
      ...beamFields(data),
      assetPath: data.hls_vod_recording_path,
      format: formatOf(data.hls_vod_recording_path),
      sizeBytes: data.hls_vod_recording_size,
      durationSeconds: data.duration,
      startedAt: data.started_at,
      stoppedAt: data.stopped_at,
    },
  }),
  'recording.success': (data) => ({
    status: 'completed',
    fields: {
      assetPath: data.recording_path,
      format: formatOf(data.recording_path),
      sizeBytes: data.size,
      durationSeconds: data.duration,
    },
  }),
  'recording.failed': (data) => ({
    status: 'failed',
    fields: { failureReason: failureReason(data) },
  }),
}

function recordingHandler(type: string): WebhookHandler {
  const interpret = INTERPRETERS[type]!
  return async (tx, event) => {
    const data = RecordingEventData.parse(event.data)
    const { id, status, fields } = interpret(data, event)
    let row: RecordingRow | null = null
    if (id) {
      row = await lockByHmsId(tx, id)
      if (!row && type === 'beam.started.success')
        row = await adoptPending(tx, data.room_id, id, event.timestamp)
    } else if (data.session_id) {
      row = await lockByRoomSession(tx, data.room_id, data.session_id)
    }
    // Not ours (started elsewhere, or deleted): nothing to change.
    if (!row) return
    await applyChange(tx, row, {
      status,
      at: event.timestamp,
      source: type,
      fields,
    })
  }
}

/** The recording family of 100ms's webhooks (SPEC §4, §5), registered in webhook-handlers. */
export const recordingEventHandlers: Record<string, WebhookHandler> =
  Object.fromEntries(
    Object.keys(INTERPRETERS).map((type) => [type, recordingHandler(type)]),
  )

// ---- reconciliation ------------------------------------------------------------------------------

/**
 * The scheduled check (SPEC §4): recordings still `recording`/`processing` with no change for
 * STUCK_AFTER_HOURS are compared with what 100ms reports and moved forward (the same forward-only
 * rules as webhooks); then 100ms is asked to replay the webhook deliveries that failed recently.
 * Safe to repeat: a second run finds the fixed rows settled and changes nothing.
 */
export async function reconcileRecordings(
  db: Db,
  hms: Hms,
): Promise<{ checked: number; fixed: number; replayRequested: boolean }> {
  const stuck = await db
    .select()
    .from(recordings)
    .where(
      and(
        inArray(recordings.status, ['recording', 'processing']),
        sql`${recordings.updatedAt} < now() - make_interval(hours => ${STUCK_AFTER_HOURS})`,
      ),
    )
    .orderBy(recordings.updatedAt)
    .limit(100)
  let fixed = 0
  for (const candidate of stuck) {
    try {
      if (await reconcileOne(db, hms, candidate)) fixed += 1
    } catch (error) {
      log('warn', 'recording not reconciled; the next run retries', {
        recordingId: candidate.id,
        error: errorMessage(error),
      })
    }
  }
  let replayRequested = false
  try {
    const to = new Date()
    await hms.replayFailedWebhooks({
      from: new Date(to.getTime() - REPLAY_WINDOW_MS),
      to,
    })
    replayRequested = true
  } catch (error) {
    log('warn', 'webhook replay not requested; the next run asks again', {
      error: errorMessage(error),
    })
  }
  return { checked: stuck.length, fixed, replayRequested }
}

async function reconcileOne(
  db: Db,
  hms: Hms,
  candidate: RecordingRow,
): Promise<boolean> {
  if (!candidate.hmsRecordingId) {
    // The start never got 100ms's answer written: there is nothing to record into.
    const failed = await db
      .update(recordings)
      .set({
        status: 'failed',
        failureReason: 'The recording never started on the video service.',
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(recordings.id, candidate.id),
          sql`${recordings.hmsRecordingId} is null`,
          inArray(recordings.status, ['recording', 'processing']),
        ),
      )
      .returning({ id: recordings.id })
    return failed.length > 0
  }
  const remote = await hms.getRecording(candidate.hmsRecordingId)
  const change = changeFromRemote(remote, candidate)
  if (!change) return false
  return db.transaction(async (tx) => {
    const row = await lockByHmsId(tx, candidate.hmsRecordingId!)
    return row ? applyChange(tx, row, change) : false
  })
}

/** What 100ms's view of a recording says, as a change; null when it says nothing new. */
function changeFromRemote(
  remote: HmsRecording,
  row: RecordingRow,
): StateChange | null {
  const base = {
    at: new Date(),
    source: 'reconcile',
  }
  const times = {
    startedAt: remote.startedAt,
    stoppedAt: remote.stoppedAt,
    hmsSessionId: remote.sessionId || null,
  }
  switch (remote.status) {
    case 'completed': {
      const asset = pickAsset(remote.assets, row.assetPath, row.format)
      return {
        ...base,
        status: 'completed',
        fields: {
          ...times,
          ...(asset
            ? {
                hmsAssetId: asset.id,
                assetPath: asset.path,
                format: asset.format,
                sizeBytes: asset.sizeBytes,
                durationSeconds: asset.durationSeconds,
                width: asset.resolution?.width ?? null,
                height: asset.resolution?.height ?? null,
              }
            : {}),
        },
      }
    }
    case 'failed':
      return {
        ...base,
        status: 'failed',
        fields: {
          ...times,
          failureReason:
            'The video service reported that the recording failed.',
        },
      }
    case 'stopping':
    case 'post_processing':
      return row.status === 'recording'
        ? { ...base, status: 'processing', fields: times }
        : null
    default:
      // Still running (or a state we do not know): nothing to fix.
      return null
  }
}

function iso(value: string | Date | null): string | null {
  if (value === null) return null
  return new Date(value).toISOString()
}
