import { SignJWT } from 'jose'
import * as z from 'zod'
import { DomainError, Unavailable } from '../utils/errors'
import { log } from './monitoring.server'
import { measure } from './telemetry.server'

/**
 * 100ms, and nothing else in the codebase knows its URLs, tokens or JSON. Every answer is parsed
 * with zod (the shapes of reference/100ms/api, with the quirks its README lists) into our own
 * camelCase types. Failures become one of two typed errors with a message safe to show:
 * - Unavailable('100ms'): not answering (network error, timeout, 5xx, 429, an answer we cannot read);
 * - DomainError('video_service_refused', …, 502): 100ms refused the call (any other 4xx).
 * Neither ever carries 100ms's body or our token; the 100ms error code and message go to the log.
 */
export interface HmsConfig {
  HMS_API_BASE: string
  HMS_ACCESS_KEY?: string
  HMS_SECRET?: string
  HMS_TEMPLATE_ID?: string
  /** Where 100ms POSTs this room's events (the webhooks Worker); unset: the dashboard's webhook. */
  HMS_WEBHOOK_URL?: string
  /** Sent back by 100ms in `x-kulti-webhook-secret` with every event of the rooms we create. */
  HMS_WEBHOOK_SECRET?: string
}

export type HmsRole = 'host' | 'presenter' | 'viewer'

/** Recording and live-stream job states (recordings/overview.mdx); open to values 100ms adds. */
export type HmsJobStatus =
  | 'starting'
  | 'running'
  | 'stopping'
  | 'post_processing'
  | 'completed'
  | 'failed'
  | (string & {})

export interface ActivePeer {
  peerId: string
  userId: string
  role: string
  name: string
}

export interface LiveStream {
  id: string
  roomId: string
  sessionId: string
  status: HmsJobStatus
  /** The HLS master playlist; null until 100ms has one. */
  playbackUrl: string | null
  startedAt: Date | null
  stoppedAt: Date | null
}

export interface RecordingAsset {
  id: string
  /** The recording job that produced it (`job_id`); absent when listed inside a recording. */
  recordingId: string | null
  roomId: string | null
  sessionId: string | null
  /** room-composite, room-vod, chat, transcript, summary, track, stream… */
  type: string
  status: string
  /** Storage path (s3://…); play it through a presigned URL, never directly. */
  path: string
  durationSeconds: number | null
  sizeBytes: number | null
  createdAt: Date | null
  /** From `metadata.resolution`, or `max_width`/`max_height` for VOD assets. */
  resolution: { width: number; height: number } | null
  /** Ours, from the path's extension (100ms sends no format field): mp4 or hls. */
  format: 'mp4' | 'hls' | null
}

export interface Recording {
  id: string
  roomId: string
  sessionId: string
  status: HmsJobStatus
  createdAt: Date | null
  startedAt: Date | null
  stoppedAt: Date | null
  assets: RecordingAsset[]
}

export interface Hms {
  /** Access key, secret and template are set; when false every call throws `video_not_configured`. */
  readonly configured: boolean
  createRoom(input: {
    name: string
    description?: string
  }): Promise<{ id: string }>
  disableRoom(roomId: string): Promise<void>
  /** Ends the active session (everyone is removed). No active session counts as done. */
  endActiveRoom(roomId: string, reason: string): Promise<void>
  /** The peers in the room's active session; none when the room has no session. */
  listActivePeers(roomId: string): Promise<ActivePeer[]>
  changePeerRole(roomId: string, peerId: string, role: HmsRole): Promise<void>
  startLiveStream(roomId: string): Promise<LiveStream>
  /** Stops the room's live stream; none running counts as done. */
  stopLiveStream(roomId: string): Promise<void>
  getLiveStream(streamId: string): Promise<LiveStream>
  startRecording(roomId: string): Promise<Recording>
  /** Stops the room's recording; none running counts as done. */
  stopRecording(roomId: string): Promise<void>
  getRecording(recordingId: string): Promise<Recording>
  getRecordingAsset(assetId: string): Promise<RecordingAsset>
  getPresignedUrl(
    assetId: string,
  ): Promise<{ url: string; expiresInSeconds: number }>
  /** Asks 100ms to re-send the webhook deliveries that failed in [from, to] (at most 14 days). */
  replayFailedWebhooks(input: {
    from: Date
    to: Date
  }): Promise<{ workflowId: string }>
  /** The join token for the browser SDK. The role comes from our database, never the client. */
  appToken(input: {
    roomId: string
    userId: string
    role: HmsRole
  }): Promise<string>
}

export interface HmsOptions {
  /** Per call, connection to last byte (default 10 s). */
  timeoutMs?: number
  /** The clock tokens are issued by (ms since the epoch); tests move it. */
  now?: () => number
}

const DEFAULT_TIMEOUT_MS = 10_000
const TOKEN_LIFETIME_S = 24 * 60 * 60
// A management token is renewed this long before it expires, so none expires mid-call.
const RENEW_BEFORE_S = 60 * 60
const MAX_REPLAY_WINDOW_MS = 14 * 24 * 60 * 60 * 1000

const NOT_CONFIGURED_MESSAGE =
  'Video is not configured on this server (HMS_ACCESS_KEY, HMS_SECRET, HMS_TEMPLATE_ID).'
const UNAVAILABLE_MESSAGE =
  'The video service is not answering right now. Please try again in a minute.'

// Per isolate and per access key: one signature a day instead of one per call.
const managementTokens = new Map<
  string,
  { token: string; expiresAt: number; secret: string }
>()

export function createHms(config: HmsConfig, options: HmsOptions = {}): Hms {
  const {
    HMS_ACCESS_KEY: accessKey,
    HMS_SECRET: secret,
    HMS_TEMPLATE_ID: templateId,
  } = config
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const nowSeconds = () => Math.floor((options.now ?? Date.now)() / 1000)
  const base = config.HMS_API_BASE.replace(/\/+$/, '')
  const configured = Boolean(accessKey && secret && templateId)
  const key = new TextEncoder().encode(secret ?? '')

  function requireConfigured(): void {
    if (!configured) {
      throw new Unavailable('100ms', {
        code: 'video_not_configured',
        message: NOT_CONFIGURED_MESSAGE,
      })
    }
  }

  async function sign(claims: Record<string, unknown>): Promise<string> {
    const now = nowSeconds()
    return new SignJWT({ access_key: accessKey, ...claims, version: 2 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + TOKEN_LIFETIME_S)
      .sign(key)
  }

  async function managementToken(): Promise<string> {
    const cacheKey = accessKey!
    const cached = managementTokens.get(cacheKey)
    if (
      cached &&
      cached.secret === secret &&
      nowSeconds() < cached.expiresAt - RENEW_BEFORE_S
    ) {
      return cached.token
    }
    const token = await sign({ type: 'management' })
    managementTokens.set(cacheKey, {
      token,
      expiresAt: nowSeconds() + TOKEN_LIFETIME_S,
      secret: secret!,
    })
    return token
  }

  /**
   * One REST call. `allowNotFound`: a 404 answers null instead of failing (nothing to end/stop).
   */
  async function call<T>(
    operation: Operation,
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    {
      body,
      allowNotFound = false,
    }: { body?: unknown; allowNotFound?: boolean } = {},
  ): Promise<T | null> {
    requireConfigured()
    const token = await managementToken()
    const unavailable = (reason: string) => {
      // A breadcrumb: the Unavailable thrown is what gets reported (or handled by the caller).
      log('info', '100ms is unavailable', { operation, reason })
      return new Unavailable('100ms', {
        message: UNAVAILABLE_MESSAGE,
        cause: new Error(`100ms ${operation}: ${reason}`),
      })
    }
    let status: number
    let text: string
    try {
      ;({ status, text } = await measure('hms', operation, async () => {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            ...(body === undefined
              ? {}
              : { 'Content-Type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          // Covers the body too: a call never hangs past this.
          signal: AbortSignal.timeout(timeoutMs),
        })
        return { status: response.status, text: await response.text() }
      }))
    } catch (error) {
      const name = error instanceof Error ? error.name : 'error'
      throw unavailable(
        name === 'TimeoutError' || name === 'AbortError'
          ? `no answer within ${timeoutMs} ms`
          : `could not be reached (${name})`,
      )
    }

    if (status === 404 && allowNotFound) return null
    if (status >= 500 || status === 429) {
      throw unavailable(`answered ${status}${describeError(text)}`)
    }
    if (status >= 400) {
      // A token 100ms no longer accepts (a rotated secret) is not reused by the next call.
      if (status === 401) managementTokens.delete(accessKey!)
      log('warn', '100ms refused a request', {
        operation,
        status,
        ...hmsError(text),
      })
      throw new DomainError(
        'video_service_refused',
        `The video service refused to ${OPERATIONS[operation]}. Please try again, or contact support if it keeps happening.`,
        502,
      )
    }
    if (status < 200 || status >= 300) throw unavailable(`answered ${status}`)

    let json: unknown
    try {
      json = text === '' ? undefined : JSON.parse(text)
    } catch {
      throw unavailable(`answered ${status} with a body that is not JSON`)
    }
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      // Paths only: values could be anything 100ms sent.
      const paths = parsed.error.issues
        .map((issue) => issue.path.join('.') || '(body)')
        .slice(0, 5)
        .join(', ')
      throw unavailable(`answered an unexpected shape (at ${paths})`)
    }
    return parsed.data
  }

  const id = encodeURIComponent

  return {
    configured,

    async createRoom({ name, description }) {
      const webhook = config.HMS_WEBHOOK_URL
        ? {
            url: config.HMS_WEBHOOK_URL,
            headers: config.HMS_WEBHOOK_SECRET
              ? { 'x-kulti-webhook-secret': config.HMS_WEBHOOK_SECRET }
              : {},
          }
        : undefined
      const room = await call('createRoom', 'POST', '/v2/rooms', RoomJson, {
        body: {
          name,
          ...(description ? { description } : {}),
          template_id: templateId,
          ...(webhook ? { webhook } : {}),
        },
      })
      return { id: room!.id }
    },

    async disableRoom(roomId) {
      await call('disableRoom', 'POST', `/v2/rooms/${id(roomId)}`, RoomJson, {
        body: { enabled: false },
      })
    },

    async endActiveRoom(roomId, reason) {
      await call(
        'endActiveRoom',
        'POST',
        `/v2/active-rooms/${id(roomId)}/end-room`,
        z.object({ message: z.string().optional() }),
        { body: { reason, lock: false }, allowNotFound: true },
      )
    },

    async listActivePeers(roomId) {
      const answer = await call(
        'listActivePeers',
        'GET',
        `/v2/active-rooms/${id(roomId)}/peers`,
        PeersJson,
        { allowNotFound: true },
      )
      return Object.values(answer?.peers ?? {}).map((peer) => ({
        peerId: peer.id,
        userId: peer.user_id,
        role: peer.role,
        name: peer.name,
      }))
    },

    async changePeerRole(roomId, peerId, role) {
      // 100ms "Update a peer" (api-reference/active-rooms/update-a-peer.mdx); not in the
      // reference folder. It answers the peer object.
      await call(
        'changePeerRole',
        'POST',
        `/v2/active-rooms/${id(roomId)}/peers/${id(peerId)}`,
        z.object({ id: Id, role: z.string() }),
        { body: { role } },
      )
    },

    async startLiveStream(roomId) {
      const stream = await call(
        'startLiveStream',
        'POST',
        `/v2/live-streams/room/${id(roomId)}/start`,
        LiveStreamJson,
        { body: {} },
      )
      return stream!
    },

    async stopLiveStream(roomId) {
      await call(
        'stopLiveStream',
        'POST',
        `/v2/live-streams/room/${id(roomId)}/stop`,
        Paged(LiveStreamJson),
        { allowNotFound: true },
      )
    },

    async getLiveStream(streamId) {
      const stream = await call(
        'getLiveStream',
        'GET',
        `/v2/live-streams/${id(streamId)}`,
        LiveStreamJson,
      )
      return stream!
    },

    async startRecording(roomId) {
      const recording = await call(
        'startRecording',
        'POST',
        `/v2/recordings/room/${id(roomId)}/start`,
        RecordingJson,
        { body: {} },
      )
      return recording!
    },

    async stopRecording(roomId) {
      await call(
        'stopRecording',
        'POST',
        `/v2/recordings/room/${id(roomId)}/stop`,
        Paged(RecordingJson),
        { allowNotFound: true },
      )
    },

    async getRecording(recordingId) {
      const recording = await call(
        'getRecording',
        'GET',
        `/v2/recordings/${id(recordingId)}`,
        RecordingJson,
      )
      return recording!
    },

    async getRecordingAsset(assetId) {
      const asset = await call(
        'getRecordingAsset',
        'GET',
        `/v2/recording-assets/${id(assetId)}`,
        AssetJson,
      )
      return asset!
    },

    async getPresignedUrl(assetId) {
      const answer = await call(
        'getPresignedUrl',
        'GET',
        `/v2/recording-assets/${id(assetId)}/presigned-url`,
        z.object({ url: z.string().min(1), expiry: z.number().int() }),
      )
      return { url: answer!.url, expiresInSeconds: answer!.expiry }
    },

    async replayFailedWebhooks({ from, to }) {
      requireConfigured()
      const span = to.getTime() - from.getTime()
      if (!(span > 0) || span > MAX_REPLAY_WINDOW_MS) {
        throw new DomainError(
          'invalid_replay_window',
          'Webhook replay needs a window of at most 14 days that ends after it starts.',
          400,
        )
      }
      // The doc's table says query parameters; its example (and 100ms) take a JSON body.
      const answer = await call(
        'replayFailedWebhooks',
        'POST',
        '/v2/analytics/webhooks/replay',
        z.object({ workflow_id: z.string().min(1) }),
        {
          body: {
            start_time: wholeSeconds(from),
            end_time: wholeSeconds(to),
          },
        },
      )
      return { workflowId: answer!.workflow_id }
    },

    async appToken({ roomId, userId, role }) {
      requireConfigured()
      return sign({ type: 'app', room_id: roomId, user_id: userId, role })
    },
  }
}

/** What each call was trying to do, for the message a person reads. */
const OPERATIONS = {
  createRoom: 'create the room',
  disableRoom: 'close the room',
  endActiveRoom: 'end the session',
  listActivePeers: 'list who is in the room',
  changePeerRole: "change the participant's role",
  startLiveStream: 'start the live stream',
  stopLiveStream: 'stop the live stream',
  getLiveStream: 'look up the live stream',
  startRecording: 'start the recording',
  stopRecording: 'stop the recording',
  getRecording: 'look up the recording',
  getRecordingAsset: 'look up the recording file',
  getPresignedUrl: 'give a link to the recording',
  replayFailedWebhooks: 'replay its failed webhooks',
} as const
type Operation = keyof typeof OPERATIONS

// error.response.json: {code, message, details?}.
const HmsErrorJson = z.object({
  code: z.number().optional(),
  message: z.string().optional(),
})

function hmsError(text: string): { hmsCode?: number; hmsMessage?: string } {
  try {
    const parsed = HmsErrorJson.safeParse(JSON.parse(text))
    if (!parsed.success) return {}
    return {
      hmsCode: parsed.data.code,
      hmsMessage: parsed.data.message?.slice(0, 200),
    }
  } catch {
    return {}
  }
}

function describeError(text: string): string {
  const { hmsCode, hmsMessage } = hmsError(text)
  return hmsCode || hmsMessage
    ? ` (${[hmsCode, hmsMessage].filter(Boolean).join(' ')})`
    : ''
}

/** `2025-12-28T00:00:00Z`: 100ms's timestamps without fractions. */
function wholeSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

// ---- 100ms's shapes -------------------------------------------------------------------------------

// ObjectId-like, but doc examples carry non-hex letters (README): any non-empty string.
const Id = z.string().min(1)

const RFC3339 =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/

/** A variable-precision RFC 3339 time; null for `null`, absent, or Go's zero time ("not set"). */
const Time = z
  .string()
  .nullish()
  .transform((value, ctx): Date | null => {
    if (value === null || value === undefined || value === '') return null
    if (value.startsWith('0001-01-01T00:00:00')) return null
    const match = RFC3339.exec(value)
    const date = match
      ? new Date(
          `${match[1]}.${(match[2] ?? '').padEnd(3, '0').slice(0, 3)}${match[3]}`,
        )
      : null
    if (!date || Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'not an RFC 3339 time' })
      return z.NEVER
    }
    return date
  })

// Integers in the samples, strings in some doc tables (README): accept both.
const Count = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number),
  ])
  .nullish()
  .transform((value) => value ?? null)

const RoomJson = z.object({ id: Id, enabled: z.boolean().optional() })

const PeersJson = z.object({
  peers: z
    .record(
      z.string(),
      z.object({
        id: Id,
        user_id: z.string(),
        role: z.string(),
        name: z
          .string()
          .nullish()
          .transform((name) => name ?? ''),
      }),
    )
    .nullish(),
})

const LiveStreamJson = z
  .object({
    id: Id,
    room_id: Id,
    session_id: z.string(),
    status: z.string(),
    playback: z.object({ url: z.string().nullish() }).nullish(),
    started_at: Time,
    stopped_at: Time,
  })
  .transform(
    (stream): LiveStream => ({
      id: stream.id,
      roomId: stream.room_id,
      sessionId: stream.session_id,
      status: stream.status,
      playbackUrl: stream.playback?.url || null,
      startedAt: stream.started_at,
      stoppedAt: stream.stopped_at,
    }),
  )

const Dimension = z.number().int().positive()

const AssetJson = z
  .object({
    id: Id,
    job_id: z.string().nullish(),
    room_id: z.string().nullish(),
    session_id: z.string().nullish(),
    type: z.string(),
    status: z.string(),
    path: z.string(),
    duration: Count,
    size: Count,
    created_at: Time,
    metadata: z
      .object({
        resolution: z.object({ width: Dimension, height: Dimension }).nullish(),
        max_width: Dimension.nullish(),
        max_height: Dimension.nullish(),
      })
      .nullish(),
  })
  .transform(
    (asset): RecordingAsset => ({
      id: asset.id,
      recordingId: asset.job_id || null,
      roomId: asset.room_id || null,
      sessionId: asset.session_id || null,
      type: asset.type,
      status: asset.status,
      path: asset.path,
      durationSeconds: asset.duration,
      sizeBytes: asset.size,
      createdAt: asset.created_at,
      resolution:
        asset.metadata?.resolution ??
        (asset.metadata?.max_width && asset.metadata.max_height
          ? {
              width: asset.metadata.max_width,
              height: asset.metadata.max_height,
            }
          : null),
      format: formatOf(asset.path),
    }),
  )

function formatOf(path: string): RecordingAsset['format'] {
  const extension = /\.([a-z0-9]+)(?:\?|$)/i.exec(path)?.[1]?.toLowerCase()
  if (extension === 'mp4') return 'mp4'
  if (extension === 'm3u8') return 'hls'
  return null
}

const RecordingJson = z
  .object({
    id: Id,
    room_id: Id,
    session_id: z.string(),
    status: z.string(),
    created_at: Time,
    started_at: Time,
    stopped_at: Time,
    recording_assets: z.array(AssetJson).nullish(),
  })
  .transform(
    (recording): Recording => ({
      id: recording.id,
      roomId: recording.room_id,
      sessionId: recording.session_id,
      status: recording.status,
      createdAt: recording.created_at,
      startedAt: recording.started_at,
      stoppedAt: recording.stopped_at,
      assets: recording.recording_assets ?? [],
    }),
  )

/** Stop-for-room answers a page of the jobs it stopped: {limit, data, last} (+ error for streams). */
function Paged<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item).nullish() })
}
