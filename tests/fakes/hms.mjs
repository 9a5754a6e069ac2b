// A stand-in for 100ms's management API (reference/100ms/), as a real HTTP server on loopback.
// It verifies the management JWT as 100ms does, keeps rooms, sessions, peers, live streams and
// recordings in memory, answers with the shapes of the reference samples, and POSTs correctly
// shaped webhooks to each room's `webhook.url` with the room's `webhook.headers` (what 100ms does
// with per-room webhooks). Plain JS with JSDoc types: `npm run dev` (plain node) and the tests
// (TypeScript) import the same file.
//
// Besides the /v2 API it serves a control API under /_fake/ so other processes (npm run dev's
// browser users, `npm run hms:simulate`, wrangler-run browser tests) can drive it:
//   GET    /_fake/state                             rooms, sessions, peers, streams, recordings, events
//   POST   /_fake/fail {call, mode, times?}         next `times` (default 1) calls fail: mode 500 (any
//                                                   status), 'timeout' (never answers), 'garbage'
//   DELETE /_fake/fail                              clears failures
//   GET    /_fake/rooms/:nameOrId                   one room, with its active session and peers
//   POST   /_fake/rooms/:nameOrId/peers {userId, role, name, peerId?}   a peer joins (201)
//   DELETE /_fake/rooms/:nameOrId/peers/:peerId[?reason=]               a peer leaves
//   POST   /_fake/emit {type, roomId, data?}        any webhook, envelope and room fields filled in
//   POST   /_fake/recordings/:id/complete | /fail   finishes a recording held with autoCompleteRecordings: false
//   POST   /_fake/clock {advanceMs}                 moves the fake's clock forward (long sessions, fast)
//   GET    /_fake/events[?type=]                    every webhook event sent, oldest first
//   POST   /_fake/reset                             forgets everything
// Control calls that produce webhooks answer after the first delivery attempt of each, so a
// caller can read the effect right after; the /v2 API answers first and delivers after, as 100ms.
//
// Standalone: `node tests/fakes/hms.mjs --port 8790` prints its URL and credentials.
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { pathToFileURL } from 'node:url'
import { jwtVerify } from 'jose'
import { LOOPBACK_TLS } from './tls.mjs'

/** The port `npm run dev` gives the fake, and where `npm run hms:simulate` looks for it. */
export const FAKE_HMS_PORT = 8790

/** Credentials of the fake when none are given (the values .dev.vars.example carries). */
export const FAKE_HMS_DEFAULTS = Object.freeze({
  accessKey: 'kulti-dev-hms-access-key',
  secret: 'kulti-dev-hms-app-secret-0123456789',
  templateId: '65a0c0ffee0000000000dev1',
})

const ACCOUNT_ID = '65a0c0ffee00000000000acc'
const APP_ID = '65a0c0ffee00000000000app'
const MAX_BODY_BYTES = 1024 * 1024
const DELIVERY_TIMEOUT_MS = 5_000
// 100ms retries a delivery that is not answered 200 three times: +1 s, +3 s, +10 s (README).
const RETRY_DELAYS_MS = [1_000, 3_000, 10_000]

/**
 * The REST calls the fake can be told to fail, named after the service methods that make them.
 * @typedef {'createRoom' | 'disableRoom' | 'getRoom' | 'endActiveRoom' | 'listActivePeers'
 *   | 'changePeerRole' | 'startLiveStream' | 'stopLiveStream' | 'getLiveStream'
 *   | 'startRecording' | 'stopRecording' | 'getRecording' | 'getRecordingAsset'
 *   | 'getPresignedUrl' | 'replayFailedWebhooks' | '*'} FakeHmsCall
 */

/** @typedef {number | 'timeout' | 'garbage'} FailureMode */

/**
 * @typedef {object} FakePeer
 * @property {string} id
 * @property {string} userId
 * @property {string} role
 * @property {string} name
 * @property {string} metadata
 * @property {Date} joinedAt
 * @property {string} joinedAtText RFC 3339 with nanoseconds, as 100ms writes it
 */

/**
 * @typedef {object} FakeSession
 * @property {string} id
 * @property {Date} startedAt
 * @property {string} startedAtText
 * @property {Map<string, FakePeer>} peers by peer id
 */

/**
 * @typedef {object} FakeRoom
 * @property {string} id
 * @property {string} name
 * @property {string} description
 * @property {boolean} enabled
 * @property {string} templateId
 * @property {{ url: string, headers: Record<string, string> } | null} webhook
 * @property {string} createdAt
 * @property {string} updatedAt
 * @property {FakeSession | null} session the active session, if any
 * @property {string | null} lastSessionId
 */

/**
 * @typedef {object} FakeAsset
 * @property {string} id
 * @property {string} jobId
 * @property {string} roomId
 * @property {string} sessionId
 * @property {string} type
 * @property {string} path
 * @property {number} duration
 * @property {number} size
 * @property {string} createdAt
 * @property {{ width: number, height: number }} resolution
 */

/**
 * A recording job (/v2/recordings) or a live stream (/v2/live-streams): both are beams.
 * @typedef {object} FakeJob
 * @property {string} id the REST id; also `job_id` in beam/hls webhooks and `recording_id` in
 *   beam.recording.success
 * @property {string} beamId
 * @property {string} roomId
 * @property {string} sessionId
 * @property {'starting' | 'running' | 'stopping' | 'post_processing' | 'completed' | 'failed'} status
 * @property {string} createdAt
 * @property {string | null} startedAt
 * @property {string | null} stoppedAt
 * @property {string} updatedAt
 * @property {string | null} playbackUrl live streams only
 * @property {FakeAsset[]} assets recordings only
 */

/**
 * @typedef {object} FakeEvent
 * @property {string} version
 * @property {string} id
 * @property {string} account_id
 * @property {string} app_id
 * @property {string} timestamp
 * @property {string} type
 * @property {Record<string, unknown>} data
 */

/**
 * @typedef {object} FakeDelivery
 * @property {FakeEvent} event
 * @property {string | null} url null: the room has no webhook and there is no default one
 * @property {Array<{ at: string, status: number | null, error?: string }>} attempts
 * @property {boolean} delivered answered 200
 */

/**
 * @typedef {object} JoinInput
 * @property {string} userId
 * @property {string} [role] default 'viewer'
 * @property {string} [name] default 'Guest'
 * @property {string} [peerId] default a new UUID
 * @property {string} [metadata]
 */

/**
 * @typedef {object} FakeHms
 * @property {string} url base URL, e.g. http://127.0.0.1:8790 (HMS_API_BASE)
 * @property {number} port
 * @property {string} assetsUrl where recording files are served, over https with tests/fakes/tls (a free port)
 * @property {string[]} assetDownloads the paths of the recording files fetched from assetsUrl, in order
 * @property {string} accessKey
 * @property {string} secret
 * @property {string} templateId
 * @property {Map<string, FakeRoom>} rooms by room id
 * @property {Map<string, FakeJob>} liveStreams by stream id
 * @property {Map<string, FakeJob>} recordings by recording id
 * @property {Map<string, FakeAsset>} assets by asset id
 * @property {FakeEvent[]} events every webhook event, oldest first
 * @property {FakeDelivery[]} deliveries every delivery, with its attempts
 * @property {Array<{ method: string, path: string, call: string, body: any, claims: import('jose').JWTPayload }>} requests
 *   every /v2 request that passed authentication (with its management token's claims), oldest first
 * @property {(nameOrId: string) => FakeRoom | undefined} room
 * @property {(call: FakeHmsCall, mode: FailureMode, times?: number) => void} fail
 * @property {() => void} clearFailures
 * @property {(type: string, roomId: string, data?: Record<string, unknown>) => Promise<FakeDelivery>} emit
 * @property {(room: string, peer: JoinInput) => Promise<{ peerId: string, roomId: string, sessionId: string }>} joinPeer
 * @property {(room: string, peerId: string, reason?: string) => Promise<void>} leavePeer
 * @property {(recordingId: string) => Promise<void>} completeRecording
 * @property {(recordingId: string, message?: string) => Promise<void>} failRecording
 * @property {(ms: number) => void} advanceClock
 * @property {() => Promise<void>} idle resolves once every queued delivery had its first attempt
 * @property {() => void} reset
 * @property {() => Promise<void>} close
 */

/**
 * @param {{
 *   port?: number,
 *   host?: string,
 *   accessKey?: string,
 *   secret?: string,
 *   templateId?: string,
 *   defaultWebhook?: { url: string, headers?: Record<string, string> } | null,
 *   autoCompleteRecordings?: boolean,
 *   retryDelaysMs?: number[],
 *   log?: (line: string) => void,
 * }} [options]
 *   `defaultWebhook` is the workspace webhook (the dashboard's), used for rooms without their own.
 *   `autoCompleteRecordings: false` leaves stopped recordings in post_processing until
 *   completeRecording/failRecording. `log` hears about deliveries that fail.
 * @returns {Promise<FakeHms>}
 */
export async function startFakeHms({
  port = 0,
  host = '127.0.0.1',
  accessKey = FAKE_HMS_DEFAULTS.accessKey,
  secret = FAKE_HMS_DEFAULTS.secret,
  templateId = FAKE_HMS_DEFAULTS.templateId,
  defaultWebhook = null,
  autoCompleteRecordings = true,
  retryDelaysMs = RETRY_DELAYS_MS,
  log = () => {},
} = {}) {
  const key = new TextEncoder().encode(secret)
  /** @type {Map<string, FakeRoom>} */
  const rooms = new Map()
  /** @type {Map<string, FakeJob>} */
  const liveStreams = new Map()
  /** @type {Map<string, FakeJob>} */
  const recordings = new Map()
  /** @type {Map<string, FakeAsset>} */
  const assets = new Map()
  /** @type {FakeEvent[]} */
  const events = []
  /** @type {FakeDelivery[]} */
  const deliveries = []
  /** @type {FakeHms['requests']} */
  const requests = []
  /** @type {Map<string, { mode: FailureMode, remaining: number }>} */
  const failures = new Map()
  /** @type {Set<ReturnType<typeof setTimeout>>} */
  const timers = new Set()
  /** @type {Set<import('node:http').ServerResponse>} */
  const hanging = new Set()
  let clockOffset = 0
  let closed = false
  /** @type {Promise<unknown>} deliveries go out one at a time, in order */
  let queue = Promise.resolve()
  let baseUrl = ''
  // Recording files are served over https, as 100ms's storage is (the pages' CSP allows media from https: only).
  let assetsUrl = ''

  const now = () => new Date(Date.now() + clockOffset)

  // ---- webhooks -------------------------------------------------------------------------------

  /** @param {FakeRoom} room @param {Record<string, unknown>} [data] */
  function roomFields(room, data = {}) {
    return {
      room_id: room.id,
      room_name: room.name,
      session_id: room.session?.id ?? room.lastSessionId ?? '',
      template_id: room.templateId,
      ...data,
    }
  }

  /**
   * Builds the envelope and queues its delivery; resolves after the first attempt.
   * @param {FakeRoom} room
   * @param {string} type
   * @param {Record<string, unknown>} data
   * @returns {Promise<FakeDelivery>}
   */
  function send(room, type, data) {
    /** @type {FakeEvent} */
    const event = {
      // recording.success / recording.failed samples are version 1.0, every other one 2.0.
      version: type.startsWith('recording.') ? '1.0' : '2.0',
      id: randomUUID(),
      account_id: ACCOUNT_ID,
      app_id: APP_ID,
      timestamp: wholeSeconds(now()),
      type,
      data,
    }
    events.push(event)
    const target = room.webhook ?? defaultWebhook
    /** @type {FakeDelivery} */
    const delivery = {
      event,
      url: target?.url ?? null,
      attempts: [],
      delivered: false,
    }
    deliveries.push(delivery)
    if (!target) return Promise.resolve(delivery)
    const body = JSON.stringify(event)
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'kulti-fake-100ms',
      ...(target.headers ?? {}),
    }
    const attempt = async (/** @type {number} */ retry) => {
      if (closed) return
      /** @type {FakeDelivery['attempts'][number]} */
      const record = { at: new Date().toISOString(), status: null }
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        })
        record.status = response.status
        await response.body?.cancel()
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error)
      }
      delivery.attempts.push(record)
      if (record.status === 200) {
        delivery.delivered = true
        return
      }
      const delay = retryDelaysMs[retry]
      log(
        `could not deliver ${type} to ${target.url}: ${record.status ?? record.error}` +
          (delay === undefined
            ? ' (gave up)'
            : ` (retry in ${delay / 1000} s)`),
      )
      if (delay === undefined || closed) return
      const timer = setTimeout(() => {
        timers.delete(timer)
        void attempt(retry + 1)
      }, delay)
      timers.add(timer)
    }
    const first = queue.then(() => attempt(0))
    queue = first.catch(() => {})
    return first.then(() => delivery)
  }

  /** @param {FakeRoom} room */
  function openSession(room) {
    if (room.session) return { session: room.session, opened: null }
    const startedAt = now()
    /** @type {FakeSession} */
    const session = {
      id: objectId(),
      startedAt,
      startedAtText: nanoTimestamp(startedAt),
      peers: new Map(),
    }
    room.session = session
    room.lastSessionId = session.id
    const opened = send(
      room,
      'session.open.success',
      roomFields(room, { session_started_at: session.startedAtText }),
    )
    return { session, opened }
  }

  /** @param {FakeRoom} room @param {FakePeer} peer @param {string} reason */
  function removePeer(room, peer, reason) {
    const session = /** @type {FakeSession} */ (room.session)
    session.peers.delete(peer.id)
    const leftAt = now()
    return send(room, 'peer.leave.success', {
      duration: Math.round((leftAt.getTime() - peer.joinedAt.getTime()) / 1000),
      joined_at: peer.joinedAtText,
      left_at: nanoTimestamp(leftAt),
      peer_id: peer.id,
      reason,
      message: '',
      role: peer.role,
      ...roomFields(room),
      type: 'regular',
      user_id: peer.userId,
      user_name: peer.name,
      user_data: peer.metadata,
      session_started_at: session.startedAtText,
    })
  }

  /** Closes the active session: stops its beams, then session.close.success. @param {FakeRoom} room @param {string} reason */
  function closeSession(room, reason) {
    const session = room.session
    if (!session) return []
    const sent = [
      ...runningJobs(liveStreams, room).map((job) =>
        stopLiveStreamJob(room, job, reason),
      ),
      ...runningJobs(recordings, room).flatMap((job) =>
        stopRecordingJob(room, job, reason),
      ),
    ]
    const stoppedAt = now()
    room.session = null
    sent.push(
      send(room, 'session.close.success', {
        ...roomFields(room, { session_id: session.id }),
        session_duration: Math.round(
          (stoppedAt.getTime() - session.startedAt.getTime()) / 1000,
        ),
        session_started_at: session.startedAtText,
        session_stopped_at: nanoTimestamp(stoppedAt),
      }),
    )
    return sent
  }

  /** A session that only a beam opened ends when its last beam stops. @param {FakeRoom} room */
  function closeIfOnlyBeams(room) {
    if (
      room.session &&
      room.session.peers.size === 0 &&
      !runningJobs(liveStreams, room).length &&
      !runningJobs(recordings, room).length
    )
      void closeSession(room, 'last peer left')
  }

  /** @param {Map<string, FakeJob>} jobs @param {FakeRoom} room */
  function runningJobs(jobs, room) {
    return [...jobs.values()].filter(
      (job) =>
        job.roomId === room.id &&
        (job.status === 'starting' || job.status === 'running'),
    )
  }

  /** @param {FakeRoom} room @param {FakeJob} job */
  function beamFields(room, job) {
    return {
      beam_id: job.beamId,
      job_id: job.id,
      metadata_id: randomUUID(),
      metadata_timestamp: nanoTimestamp(now()),
      // Started and stopped from the server: 100ms leaves the peer id empty.
      peer_id: '',
      ...roomFields(room, { session_id: job.sessionId }),
      max_width: 1280,
      max_height: 720,
      meeting_url: `${baseUrl}/preview/${encodeURIComponent(room.name)}?token=beam_recording`,
      session_started_at: room.session?.startedAtText ?? job.createdAt,
    }
  }

  /** @param {FakeJob} job */
  function jobDuration(job) {
    if (!job.startedAt || !job.stoppedAt) return 0
    return Math.round(
      (Date.parse(normaliseTime(job.stoppedAt)) -
        Date.parse(normaliseTime(job.startedAt))) /
        1000,
    )
  }

  /** @param {FakeRoom} room @param {FakeJob} job @param {string} reason */
  function stopLiveStreamJob(room, job, reason) {
    job.status = 'completed'
    job.stoppedAt = job.updatedAt = nanoTimestamp(now())
    const fields = withoutRoomName(beamFields(room, job))
    return send(room, 'hls.stopped.success', {
      ...fields,
      recording_single_file_per_layer_enabled: false,
      recording_vod_playlist_enabled: false,
      duration: jobDuration(job),
      started_at: job.startedAt,
      stopped_at: job.stoppedAt,
      reason,
    })
  }

  /** @param {FakeRoom} room @param {FakeJob} job @param {string} reason */
  function stopRecordingJob(room, job, reason) {
    job.status = 'post_processing'
    job.stoppedAt = job.updatedAt = nanoTimestamp(now())
    const fields = withoutRoomName(beamFields(room, job))
    const sent = [
      send(room, 'beam.stopped.success', {
        ...fields,
        recording_enabled: true,
        duration: jobDuration(job),
        reason,
      }),
    ]
    if (autoCompleteRecordings) sent.push(finishRecording(room, job))
    return sent
  }

  /** Post-processing done: the asset exists and beam.recording.success goes out. @param {FakeRoom} room @param {FakeJob} job */
  function finishRecording(room, job) {
    const duration = jobDuration(job)
    /** @type {FakeAsset} */
    const asset = {
      id: objectId(),
      jobId: job.id,
      roomId: room.id,
      sessionId: job.sessionId,
      type: 'room-composite',
      path: `s3://kulti-fake-100ms/recordings/${room.id}/${job.id}/composite.mp4`,
      duration,
      // Roughly 1 Mbit/s of 720p video.
      size: Math.max(1, duration) * 125_000,
      createdAt: nanoTimestamp(now()),
      resolution: { width: 1280, height: 720 },
    }
    assets.set(asset.id, asset)
    job.assets.push(asset)
    job.status = 'completed'
    job.updatedAt = asset.createdAt
    // The beam.recording.success sample has no job_id: the job is `recording_id`.
    const { job_id: _, ...fields } = withoutRoomName(beamFields(room, job))
    return send(room, 'beam.recording.success', {
      ...fields,
      created_at: asset.createdAt,
      duration,
      recording_id: job.id,
      recording_path: asset.path,
      recording_presigned_url: presignedUrl(asset.id, 86_400),
      chat_recording_path: `s3://kulti-fake-100ms/recordings/${room.id}/${job.id}/chat.csv`,
      chat_recording_presigned_url: `${assetsUrl}/assets/${job.id}-chat?expires=86400`,
      started_at: job.startedAt,
      stopped_at: job.stoppedAt,
      size: asset.size,
    })
  }

  /** @param {string} assetId @param {number} seconds */
  function presignedUrl(assetId, seconds) {
    return `${assetsUrl}/assets/${assetId}?expires=${seconds}&signature=${randomBytes(8).toString('hex')}`
  }

  /** @param {string} nameOrId */
  function findRoom(nameOrId) {
    const byId = rooms.get(nameOrId)
    if (byId) return byId
    const name = nameOrId.toLowerCase()
    for (const room of rooms.values())
      if (room.name.toLowerCase() === name) return room
    return undefined
  }

  /** @param {string} nameOrId */
  function requireRoom(nameOrId) {
    const room = findRoom(nameOrId)
    if (!room) throw new FakeError(404, `no room named or with id ${nameOrId}`)
    return room
  }

  /** @param {string} nameOrId @param {JoinInput} input */
  async function joinPeer(nameOrId, input) {
    const room = requireRoom(nameOrId)
    if (!room.enabled) throw new FakeError(403, 'room is disabled')
    if (!input || typeof input.userId !== 'string' || !input.userId)
      throw new FakeError(400, 'userId is required')
    const { session, opened } = openSession(room)
    const joinedAt = now()
    /** @type {FakePeer} */
    const peer = {
      id: input.peerId ?? randomUUID(),
      userId: input.userId,
      role: input.role ?? 'viewer',
      name: input.name ?? 'Guest',
      metadata: input.metadata ?? '',
      joinedAt,
      joinedAtText: nanoTimestamp(joinedAt),
    }
    if (session.peers.has(peer.id))
      throw new FakeError(400, `peer ${peer.id} is already in the room`)
    session.peers.set(peer.id, peer)
    const joined = send(room, 'peer.join.success', {
      joined_at: peer.joinedAtText,
      peer_id: peer.id,
      role: peer.role,
      ...roomFields(room),
      type: 'regular',
      user_id: peer.userId,
      user_name: peer.name,
      user_data: peer.metadata,
      session_started_at: session.startedAtText,
    })
    await Promise.all([opened, joined])
    return { peerId: peer.id, roomId: room.id, sessionId: session.id }
  }

  /** @param {string} nameOrId @param {string} peerId @param {string} [reason] */
  async function leavePeer(nameOrId, peerId, reason = 'client request') {
    const room = requireRoom(nameOrId)
    const peer = room.session?.peers.get(peerId)
    if (!room.session || !peer)
      throw new FakeError(404, `peer ${peerId} is not in room ${room.name}`)
    const sent = [removePeer(room, peer, reason)]
    if (room.session.peers.size === 0)
      sent.push(...closeSession(room, 'last peer left'))
    await Promise.all(sent)
  }

  /** @param {string} recordingId */
  function heldRecording(recordingId) {
    const job = recordings.get(recordingId)
    if (!job) throw new FakeError(404, `no recording ${recordingId}`)
    if (job.status !== 'post_processing')
      throw new FakeError(400, `recording ${recordingId} is ${job.status}`)
    return { job, room: requireRoom(job.roomId) }
  }

  // ---- the /v2 API ----------------------------------------------------------------------------

  /** @param {FakeRoom} room */
  function roomJson(room) {
    return {
      id: room.id,
      name: room.name,
      enabled: room.enabled,
      description: room.description,
      customer_id: ACCOUNT_ID,
      customer: ACCOUNT_ID,
      app_id: APP_ID,
      recording_info: { enabled: false },
      template_id: room.templateId,
      template: 'kulti-fake-template',
      region: 'us',
      created_at: room.createdAt,
      updated_at: room.updatedAt,
      ...(room.webhook ? { webhook: room.webhook } : {}),
    }
  }

  /** @param {FakeJob} job */
  function liveStreamJson(job) {
    return {
      id: job.id,
      room_id: job.roomId,
      session_id: job.sessionId,
      status: job.status,
      destination: 'kulti-fake-hls',
      playback: { url: job.playbackUrl ?? '' },
      meeting_url: '',
      recording: { hls_vod: false, single_file_per_layer: false },
      created_at: job.createdAt,
      started_at: job.startedAt,
      updated_at: job.updatedAt,
      stopped_at: job.stoppedAt,
      started_by: '',
      stopped_by: '',
      recording_assets: null,
    }
  }

  /** @param {FakeAsset} asset @param {boolean} standalone with job/room/session ids (GET asset) */
  function assetJson(asset, standalone) {
    return {
      id: asset.id,
      thumbnails: null,
      metadata: { resolution: asset.resolution },
      duration: asset.duration,
      path: asset.path,
      status: 'completed',
      created_at: asset.createdAt,
      type: asset.type,
      size: asset.size,
      ...(standalone
        ? {
            job_id: asset.jobId,
            room_id: asset.roomId,
            session_id: asset.sessionId,
          }
        : {}),
    }
  }

  /** @param {FakeJob} job */
  function recordingJson(job) {
    return {
      id: job.id,
      room_id: job.roomId,
      session_id: job.sessionId,
      status: job.status,
      created_at: job.createdAt,
      started_at: job.startedAt,
      updated_at: job.updatedAt,
      stopped_at: job.stoppedAt,
      meeting_url: '',
      destination: 'kulti-fake-recording',
      started_by: '',
      stopped_by: '',
      asset_types: ['room-composite'],
      recording_assets: job.assets.length
        ? job.assets.map((asset) => assetJson(asset, false))
        : null,
    }
  }

  /**
   * @param {Map<string, FakeJob>} jobs
   * @param {FakeRoom} room
   * @param {string} kind
   */
  function newJob(jobs, room, kind) {
    if (runningJobs(jobs, room).length)
      throw new FakeError(400, `${kind} is already running in this room`)
    if (!room.enabled) throw new FakeError(403, 'room is disabled')
    // The beam joins the room like a peer: a room nobody is in gets a session for it.
    const { session, opened } = openSession(room)
    const at = nanoTimestamp(now())
    /** @type {FakeJob} */
    const job = {
      id: objectId(),
      beamId: objectId(),
      roomId: room.id,
      sessionId: session.id,
      status: 'starting',
      createdAt: at,
      startedAt: null,
      stoppedAt: null,
      updatedAt: at,
      playbackUrl: null,
      assets: [],
    }
    jobs.set(job.id, job)
    return { job, opened }
  }

  /** Marks a just-created job running; the answer keeps the `starting` snapshot, as 100ms's does. @param {FakeJob} job */
  function run(job) {
    job.status = 'running'
    job.startedAt = job.updatedAt = nanoTimestamp(now())
  }

  /** @type {Array<[string, RegExp, FakeHmsCall, (match: string[], body: any, url: URL) => unknown]>} */
  const routes = [
    [
      'POST',
      /^\/v2\/rooms$/,
      'createRoom',
      (_, body) => {
        if (typeof body?.name !== 'string' || !body.name)
          throw new FakeError(400, 'name is required')
        if (body.template_id !== undefined && body.template_id !== templateId)
          throw new FakeError(404, 'template not found')
        const at = nanoTimestamp(now()).replace(/\d{6}Z$/, 'Z')
        // 100ms: creating a room with an existing name updates and returns that room.
        let room = findRoom(body.name)
        if (!room) {
          room = {
            id: objectId(),
            name: body.name,
            description: '',
            enabled: true,
            templateId,
            webhook: null,
            createdAt: at,
            updatedAt: at,
            session: null,
            lastSessionId: null,
          }
          rooms.set(room.id, room)
        }
        applyRoomUpdate(room, body)
        room.updatedAt = at
        return roomJson(room)
      },
    ],
    [
      'GET',
      /^\/v2\/rooms\/([^/]+)$/,
      'getRoom',
      ([id]) => roomJson(requireRoomById(id)),
    ],
    [
      'POST',
      /^\/v2\/rooms\/([^/]+)$/,
      'disableRoom',
      ([id], body) => {
        const room = requireRoomById(id)
        applyRoomUpdate(room, body ?? {})
        room.updatedAt = nanoTimestamp(now())
        return roomJson(room)
      },
    ],
    [
      'POST',
      /^\/v2\/active-rooms\/([^/]+)\/end-room$/,
      'endActiveRoom',
      ([id], body) => {
        const room = requireRoomById(id)
        const session = room.session
        if (!session) throw new FakeError(404, 'active room not found')
        for (const peer of [...session.peers.values()])
          void removePeer(room, peer, 'room ended')
        void closeSession(room, 'room ended')
        if (body?.lock === true) room.enabled = false
        return { message: 'session is ending' }
      },
    ],
    [
      'GET',
      /^\/v2\/active-rooms\/([^/]+)\/peers$/,
      'listActivePeers',
      ([id], _, url) => {
        const room = requireRoomById(id)
        if (!room.session) throw new FakeError(404, 'active room not found')
        const userId = url.searchParams.get('user_id')
        const role = url.searchParams.get('role')
        const peers = [...room.session.peers.values()].filter(
          (peer) =>
            (!userId || peer.userId === userId) &&
            (!role || peer.role === role),
        )
        return {
          peers: Object.fromEntries(
            peers.map((peer) => [peer.id, peerJson(peer)]),
          ),
        }
      },
    ],
    [
      'POST',
      /^\/v2\/active-rooms\/([^/]+)\/peers\/([^/]+)$/,
      'changePeerRole',
      ([id, peerId], body) => {
        const room = requireRoomById(id)
        const peer = room.session?.peers.get(peerId)
        if (!room.session || !peer) throw new FakeError(404, 'peer not found')
        if (typeof body?.name === 'string') peer.name = body.name
        if (typeof body?.metadata === 'string') peer.metadata = body.metadata
        if (typeof body?.role === 'string' && body.role !== peer.role) {
          const previous = peer.role
          peer.role = body.role
          // Changed through the API: no role_change_requested_by (README).
          void send(room, 'role.change.success', {
            joined_at: peer.joinedAtText,
            peer_id: peer.id,
            role: peer.role,
            ...roomFields(room),
            user_id: peer.userId,
            user_name: peer.name,
            user_data: peer.metadata,
            previous_role: previous,
            session_started_at: room.session.startedAtText,
            role_changed_at: nanoTimestamp(now()),
          })
        }
        return { ...peerJson(peer), tracks: {} }
      },
    ],
    [
      'POST',
      /^\/v2\/live-streams\/room\/([^/]+)\/start$/,
      'startLiveStream',
      ([id]) => {
        const room = requireRoomById(id)
        const { job, opened } = newJob(liveStreams, room, 'a live stream')
        job.playbackUrl = `${baseUrl}/hls/${job.id}/master.m3u8`
        const answer = liveStreamJson(job)
        run(job)
        void opened
        void send(room, 'hls.started.success', {
          ...withoutRoomName(beamFields(room, job)),
          recording_single_file_per_layer_enabled: false,
          recording_vod_playlist_enabled: false,
          start_delay: 0,
          url: job.playbackUrl,
          started_at: job.startedAt,
        })
        return answer
      },
    ],
    [
      'POST',
      /^\/v2\/live-streams\/room\/([^/]+)\/stop$/,
      'stopLiveStream',
      ([id]) => {
        const room = requireRoomById(id)
        const running = runningJobs(liveStreams, room)
        if (!running.length) throw new FakeError(404, 'live stream not found')
        const snapshots = running.map((job) => {
          job.status = 'stopping'
          return liveStreamJson(job)
        })
        for (const job of running)
          void stopLiveStreamJob(room, job, 'client request')
        closeIfOnlyBeams(room)
        return {
          error: '',
          data: snapshots,
          limit: 10,
          last: snapshots.at(-1)?.id ?? '',
        }
      },
    ],
    [
      'GET',
      /^\/v2\/live-streams\/([^/]+)$/,
      'getLiveStream',
      ([id]) => {
        const job = liveStreams.get(id)
        if (!job) throw new FakeError(404, 'live stream not found')
        return liveStreamJson(job)
      },
    ],
    [
      'POST',
      /^\/v2\/recordings\/room\/([^/]+)\/start$/,
      'startRecording',
      ([id]) => {
        const room = requireRoomById(id)
        const { job, opened } = newJob(recordings, room, 'a recording')
        const answer = recordingJson(job)
        run(job)
        void opened
        void send(room, 'beam.started.success', {
          ...withoutRoomName(beamFields(room, job)),
          recording_enabled: true,
          start_delay: 0,
        })
        return answer
      },
    ],
    [
      'POST',
      /^\/v2\/recordings\/room\/([^/]+)\/stop$/,
      'stopRecording',
      ([id]) => {
        const room = requireRoomById(id)
        const running = runningJobs(recordings, room)
        if (!running.length) throw new FakeError(404, 'recording not found')
        const snapshots = running.map((job) => {
          job.status = 'stopping'
          return recordingJson(job)
        })
        for (const job of running)
          void stopRecordingJob(room, job, 'client request')
        closeIfOnlyBeams(room)
        return {
          limit: 10,
          data: snapshots,
          last: snapshots.at(-1)?.id ?? '',
        }
      },
    ],
    [
      'GET',
      /^\/v2\/recordings\/([^/]+)$/,
      'getRecording',
      ([id]) => {
        const job = recordings.get(id)
        if (!job) throw new FakeError(404, 'recording not found')
        return recordingJson(job)
      },
    ],
    [
      'GET',
      /^\/v2\/recording-assets\/([^/]+)\/presigned-url$/,
      'getPresignedUrl',
      ([id], _, url) => {
        const asset = assets.get(id)
        if (!asset) throw new FakeError(404, 'asset not found')
        const seconds = Number(url.searchParams.get('presign_duration') ?? 3600)
        return {
          id: asset.id,
          path: asset.path,
          url: presignedUrl(asset.id, seconds),
          expiry: seconds,
        }
      },
    ],
    [
      'GET',
      /^\/v2\/recording-assets\/([^/]+)$/,
      'getRecordingAsset',
      ([id]) => {
        const asset = assets.get(id)
        if (!asset) throw new FakeError(404, 'asset not found')
        return assetJson(asset, true)
      },
    ],
    [
      'POST',
      /^\/v2\/analytics\/webhooks\/replay$/,
      'replayFailedWebhooks',
      (_, body) => {
        const start = Date.parse(body?.start_time)
        const end = Date.parse(body?.end_time)
        if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start)
          throw new FakeError(400, 'start_time and end_time are required')
        const names = Array.isArray(body?.event_names) ? body.event_names : null
        // Re-sends deliveries that never got a 200 (their original body, as the replay does).
        const failed = deliveries.filter((delivery) => {
          const at = Date.parse(delivery.event.timestamp)
          return (
            !delivery.delivered &&
            delivery.url &&
            at >= start &&
            at <= end &&
            (!names || names.includes(delivery.event.type))
          )
        })
        for (const delivery of failed) {
          const room = rooms.get(String(delivery.event.data.room_id))
          if (room) void resend(room, delivery)
        }
        return {
          workflow_id: `webhook-replay-kulti-${randomBytes(4).toString('hex')}`,
          status: 'started',
          message: 'Webhook replay has been queued for processing',
          filters: {
            start_time: body.start_time,
            end_time: body.end_time,
            room_id: '',
            event_types: names ?? [],
          },
        }
      },
    ],
  ]

  /** @param {FakeRoom} room @param {FakeDelivery} delivery */
  function resend(room, delivery) {
    const target = room.webhook ?? defaultWebhook
    if (!target) return Promise.resolve()
    const attempt = async () => {
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'kulti-fake-100ms',
            ...(target.headers ?? {}),
          },
          body: JSON.stringify(delivery.event),
          signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        })
        delivery.attempts.push({
          at: new Date().toISOString(),
          status: response.status,
        })
        if (response.status === 200) delivery.delivered = true
        await response.body?.cancel()
      } catch (error) {
        delivery.attempts.push({
          at: new Date().toISOString(),
          status: null,
          error: error instanceof Error ? error.message : String(error),
        })
      }
    }
    const done = queue.then(attempt)
    queue = done.catch(() => {})
    return done
  }

  /** @param {string} id */
  function requireRoomById(id) {
    const room = rooms.get(id)
    if (!room) throw new FakeError(404, 'room not found')
    return room
  }

  /** @param {FakeRoom} room @param {any} body */
  function applyRoomUpdate(room, body) {
    if (typeof body.description === 'string')
      room.description = body.description
    if (typeof body.enabled === 'boolean') room.enabled = body.enabled
    if (typeof body.name === 'string' && body.name) room.name = body.name
    if (body.webhook && typeof body.webhook.url === 'string') {
      room.webhook = {
        url: body.webhook.url,
        headers: { ...(body.webhook.headers ?? {}) },
      }
    }
  }

  // ---- authentication and failures ------------------------------------------------------------

  /** @param {string | undefined} authorization @returns {Promise<{ claims: import('jose').JWTPayload } | { error: string }>} */
  async function authenticate(authorization) {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1]
    if (!token) return { error: 'not found' }
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat', 'jti'],
      })
      if (payload.type !== 'management')
        return { error: 'not a management token' }
      if (payload.access_key !== accessKey)
        return { error: 'invalid access key' }
      if (payload.version !== 2) return { error: 'unsupported token version' }
      return { claims: payload }
    } catch (error) {
      const code = /** @type {{ code?: string }} */ (error).code
      return {
        error:
          code === 'ERR_JWT_EXPIRED'
            ? 'token is expired'
            : code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
              ? 'signature is invalid'
              : 'token is invalid',
      }
    }
  }

  /** @param {FakeHmsCall} call */
  function takeFailure(call) {
    for (const name of [call, '*']) {
      const failure = failures.get(name)
      if (!failure) continue
      failure.remaining -= 1
      if (failure.remaining <= 0) failures.delete(name)
      return failure.mode
    }
    return null
  }

  // ---- the control API ------------------------------------------------------------------------

  function state() {
    return {
      url: baseUrl,
      templateId,
      rooms: [...rooms.values()].map(roomState),
      liveStreams: [...liveStreams.values()].map(liveStreamJson),
      recordings: [...recordings.values()].map(recordingJson),
      failures: Object.fromEntries(failures),
      events: events.length,
      deliveries: {
        delivered: deliveries.filter((d) => d.delivered).length,
        failed: deliveries.filter((d) => d.url && !d.delivered).length,
        withoutWebhook: deliveries.filter((d) => !d.url).length,
      },
    }
  }

  /** @param {FakeRoom} room */
  function roomState(room) {
    return {
      ...roomJson(room),
      session: room.session
        ? {
            id: room.session.id,
            started_at: room.session.startedAtText,
            peers: [...room.session.peers.values()].map(peerJson),
          }
        : null,
    }
  }

  /**
   * @param {string} method
   * @param {URL} url
   * @param {any} body
   * @returns {Promise<[number, unknown]>}
   */
  async function control(method, url, body) {
    const path = url.pathname
    let match
    if (method === 'GET' && path === '/_fake/state') return [200, state()]
    if (method === 'POST' && path === '/_fake/fail') {
      const mode = body?.mode
      if (
        typeof body?.call !== 'string' ||
        !(mode === 'timeout' || mode === 'garbage' || Number.isInteger(mode))
      )
        throw new FakeError(
          400,
          "expected {call, mode: <status> | 'timeout' | 'garbage', times?}",
        )
      fail(body.call, mode, body.times ?? 1)
      return [200, { failures: Object.fromEntries(failures) }]
    }
    if (method === 'DELETE' && path === '/_fake/fail') {
      failures.clear()
      return [200, { failures: {} }]
    }
    if (method === 'GET' && path === '/_fake/events') {
      const type = url.searchParams.get('type')
      return [200, { events: events.filter((e) => !type || e.type === type) }]
    }
    if (method === 'POST' && path === '/_fake/emit') {
      const room = requireRoom(String(body?.roomId ?? ''))
      if (typeof body?.type !== 'string')
        throw new FakeError(400, 'type is required')
      const delivery = await emit(body.type, room.id, body.data ?? {})
      return [200, deliveryJson(delivery)]
    }
    if (method === 'POST' && path === '/_fake/clock') {
      advanceClock(Number(body?.advanceMs ?? 0))
      return [200, { now: now().toISOString() }]
    }
    if (method === 'POST' && path === '/_fake/reset') {
      reset()
      return [200, state()]
    }
    if (
      (match = /^\/_fake\/recordings\/([^/]+)\/(complete|fail)$/.exec(path))
    ) {
      const [, id, action] = /** @type {string[]} */ (match)
      if (action === 'complete')
        await completeRecording(/** @type {string} */ (id))
      else await failRecording(/** @type {string} */ (id), body?.message)
      return [
        200,
        recordingJson(
          /** @type {FakeJob} */ (recordings.get(/** @type {string} */ (id))),
        ),
      ]
    }
    if ((match = /^\/_fake\/rooms\/([^/]+)$/.exec(path)) && method === 'GET') {
      return [
        200,
        roomState(
          requireRoom(decodeURIComponent(/** @type {string} */ (match[1]))),
        ),
      ]
    }
    if (
      (match = /^\/_fake\/rooms\/([^/]+)\/peers$/.exec(path)) &&
      method === 'POST'
    ) {
      const joined = await joinPeer(
        decodeURIComponent(/** @type {string} */ (match[1])),
        {
          userId: body?.userId,
          role: body?.role,
          name: body?.name,
          peerId: body?.peerId,
          metadata: body?.metadata,
        },
      )
      return [201, joined]
    }
    if (
      (match = /^\/_fake\/rooms\/([^/]+)\/peers\/([^/]+)$/.exec(path)) &&
      method === 'DELETE'
    ) {
      await leavePeer(
        decodeURIComponent(/** @type {string} */ (match[1])),
        decodeURIComponent(/** @type {string} */ (match[2])),
        url.searchParams.get('reason') ?? undefined,
      )
      return [200, { left: true }]
    }
    throw new FakeError(404, `no control endpoint ${method} ${path}`)
  }

  // ---- the server -----------------------------------------------------------------------------

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    const method = req.method ?? 'GET'
    /** @param {number} status @param {unknown} body */
    const answer = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    try {
      const text = await readBody(req)
      let body
      try {
        body = text ? JSON.parse(text) : undefined
      } catch {
        throw new FakeError(400, 'body is not valid JSON')
      }

      if (url.pathname.startsWith('/_fake/')) {
        const [status, result] = await control(method, url, body)
        return answer(status, result)
      }
      if (
        method === 'GET' &&
        /^\/hls\/[^/]+\/master\.m3u8$/.test(url.pathname)
      ) {
        // A live playlist with no segments yet: enough for a player to load without errors.
        res.writeHead(200, {
          'Content-Type': 'application/vnd.apple.mpegurl',
          'Access-Control-Allow-Origin': '*',
          'Cache-Control': 'no-cache',
        })
        return res.end(
          '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n',
        )
      }
      if (method === 'GET' && url.pathname.startsWith('/assets/'))
        return serveAsset(res)
      if (!url.pathname.startsWith('/v2/'))
        throw new FakeError(404, `no endpoint ${method} ${url.pathname}`)

      const auth = await authenticate(req.headers.authorization)
      if ('error' in auth) {
        // error.response.json: {code, message, details}.
        return answer(401, {
          code: 401,
          message: 'Token validation error',
          details: [auth.error],
        })
      }
      const route = routes.find(
        ([m, pattern]) => m === method && pattern.test(url.pathname),
      )
      if (!route)
        throw new FakeError(404, `no endpoint ${method} ${url.pathname}`)
      const [, pattern, call, handle] = route
      if (
        method === 'POST' &&
        text &&
        !String(req.headers['content-type']).startsWith('application/json')
      )
        throw new FakeError(400, 'Content-Type must be application/json')
      requests.push({
        method,
        path: url.pathname + url.search,
        call,
        body,
        claims: auth.claims,
      })
      const failure = takeFailure(call)
      if (failure === 'timeout') {
        // Never answers (until close()): the caller's timeout is what ends it.
        hanging.add(res)
        res.on('close', () => hanging.delete(res))
        return
      }
      if (failure === 'garbage') {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        return res.end('<html>502 Bad Gateway</html>')
      }
      if (typeof failure === 'number') {
        return answer(failure, {
          code: failure,
          message: `fake failure of ${call}`,
          details: ['injected by the fake 100ms'],
        })
      }
      const match = /** @type {RegExpExecArray} */ (pattern.exec(url.pathname))
      const params = match.slice(1).map(decodeURIComponent)
      return answer(200, handle(params, body, url))
    } catch (error) {
      if (error instanceof FakeError)
        return answer(error.status, {
          code: error.status,
          message: error.message,
        })
      return answer(500, {
        code: 500,
        message: error instanceof Error ? error.message : String(error),
      })
    }
  })

  /** A recording file: an empty mp4 is enough for a player's request to succeed. */
  function serveAsset(/** @type {import('node:http').ServerResponse} */ res) {
    res.writeHead(200, {
      'Content-Type': 'video/mp4',
      'Access-Control-Allow-Origin': '*',
    })
    res.end()
  }
  /** @type {string[]} */
  const assetDownloads = []
  const assetsServer = createHttpsServer(LOOPBACK_TLS, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://fake')
    if (req.method === 'GET' && url.pathname.startsWith('/assets/')) {
      assetDownloads.push(url.pathname)
      return serveAsset(res)
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' })
    res.end('only /assets/ here')
  })

  /** @param {import('node:net').Server} listener @param {number} listenPort */
  const listen = (listener, listenPort) =>
    new Promise((resolve, reject) => {
      listener.once('error', reject)
      listener.listen(listenPort, host, () => {
        listener.off('error', reject)
        resolve(undefined)
      })
    })
  await listen(server, port)
  const address = /** @type {import('node:net').AddressInfo} */ (
    server.address()
  )
  baseUrl = `http://${host}:${address.port}`
  // Any free port: nothing configures it, the presigned URLs carry it.
  await listen(assetsServer, 0)
  const assetsAddress = /** @type {import('node:net').AddressInfo} */ (
    assetsServer.address()
  )
  assetsUrl = `https://${host}:${assetsAddress.port}`

  /** @type {FakeHms['fail']} */
  function fail(call, mode, times = 1) {
    failures.set(call, { mode, remaining: times })
  }

  /** @type {FakeHms['emit']} */
  function emit(type, roomId, data = {}) {
    const room = requireRoom(roomId)
    return send(room, type, roomFields(room, data))
  }

  /** @type {FakeHms['completeRecording']} */
  async function completeRecording(recordingId) {
    const { job, room } = heldRecording(recordingId)
    await finishRecording(room, job)
  }

  /** @type {FakeHms['failRecording']} */
  async function failRecording(
    recordingId,
    message = 'Failed to upload recordings. Check if upload config is correct.',
  ) {
    const { job, room } = heldRecording(recordingId)
    job.status = 'failed'
    job.updatedAt = nanoTimestamp(now())
    await send(room, 'beam.failure', {
      ...withoutRoomName(beamFields(room, job)),
      error_code: 1,
      error_message: message,
      error_type: 'UPLOAD_ERROR',
      recording_enabled: true,
      duration: jobDuration(job),
    })
  }

  /** @param {number} ms */
  function advanceClock(ms) {
    if (!Number.isFinite(ms) || ms < 0)
      throw new FakeError(400, 'advanceMs must be a positive number')
    clockOffset += ms
  }

  function reset() {
    rooms.clear()
    liveStreams.clear()
    recordings.clear()
    assets.clear()
    events.length = 0
    deliveries.length = 0
    requests.length = 0
    failures.clear()
    clockOffset = 0
  }

  return {
    url: baseUrl,
    port: address.port,
    assetsUrl,
    assetDownloads,
    accessKey,
    secret,
    templateId,
    rooms,
    liveStreams,
    recordings,
    assets,
    events,
    deliveries,
    requests,
    room: findRoom,
    fail,
    clearFailures: () => failures.clear(),
    emit,
    joinPeer,
    leavePeer,
    completeRecording,
    failRecording,
    advanceClock,
    idle: () => queue.then(() => undefined),
    reset,
    async close() {
      if (closed) return
      closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const res of hanging) res.destroy()
      for (const listener of [server, assetsServer]) {
        listener.closeAllConnections()
        await new Promise((resolve) => listener.close(() => resolve(undefined)))
      }
    },
  }
}

/** @param {Record<string, unknown>} fields */
function withoutRoomName({ room_name: _, ...rest }) {
  return rest
}

/** @param {FakePeer} peer */
function peerJson(peer) {
  return {
    id: peer.id,
    name: peer.name,
    user_id: peer.userId,
    metadata: peer.metadata,
    role: peer.role,
    joined_at: peer.joinedAtText,
  }
}

/** @param {FakeDelivery} delivery */
function deliveryJson(delivery) {
  return {
    event: delivery.event,
    url: delivery.url,
    attempts: delivery.attempts,
    delivered: delivery.delivered,
  }
}

class FakeError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

/** @param {import('node:http').IncomingMessage} req @returns {Promise<string>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0
    /** @type {Buffer[]} */
    const chunks = []
    req.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new FakeError(413, 'body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** A 24-character id shaped like 100ms's (an ObjectId: 4 bytes of time, 8 random). */
function objectId() {
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')
  return seconds + randomBytes(8).toString('hex')
}

/** `2021-11-30T12:58:49Z`: envelope timestamps are whole seconds. @param {Date} date */
function wholeSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** `2021-11-30T12:58:49.972912470Z`: data timestamps carry up to nine fractional digits. @param {Date} date */
function nanoTimestamp(date) {
  const extra = String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0')
  return date.toISOString().replace(/Z$/, `${extra}Z`)
}

/** Date.parse-able form of a nanosecond timestamp. @param {string} text */
function normaliseTime(text) {
  return text.replace(/(\.\d{3})\d*Z$/, '$1Z')
}

// ---- standalone ----------------------------------------------------------------------------------

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  /** @param {string} name */
  const option = (name) => {
    const at = args.indexOf(`--${name}`)
    return at >= 0 ? args[at + 1] : undefined
  }
  if (args.includes('--help')) {
    console.log(
      'usage: node tests/fakes/hms.mjs [--port 8790] [--access-key K] [--secret S] [--template-id T]',
    )
    process.exit(0)
  }
  const fake = await startFakeHms({
    port: Number(option('port') ?? FAKE_HMS_PORT),
    accessKey: option('access-key'),
    secret: option('secret'),
    templateId: option('template-id'),
    log: (line) => console.log(`[fake 100ms] ${line}`),
  })
  console.log(`Fake 100ms listening on ${fake.url}`)
  console.log(
    `  HMS_API_BASE=${fake.url}\n  HMS_ACCESS_KEY=${fake.accessKey}\n  HMS_SECRET=${fake.secret}\n  HMS_TEMPLATE_ID=${fake.templateId}`,
  )
  console.log(`  state: curl ${fake.url}/_fake/state   (Ctrl-C stops it)`)
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(signal, () => {
      void fake.close().then(() => process.exit(0))
    })
  }
}
