import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose'
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  test,
  vi,
} from 'vitest'
import { startFakeHms } from '../../tests/fakes/hms.mjs'
import { isDomainError, isUnavailable } from '../utils/errors'
import { createHms, type HmsConfig } from './hms.server'

type FakeHms = Awaited<ReturnType<typeof startFakeHms>>

const WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef'
const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const WHOLE_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const FRACTIONAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,9}Z$/
const UNAVAILABLE_MESSAGE =
  'The video service is not answering right now. Please try again in a minute.'

/** Where the fake delivers webhooks: records what 100ms would POST to the webhooks Worker. */
interface Received {
  headers: Record<string, string | string[] | undefined>
  body: {
    version: string
    id: string
    account_id: string
    app_id: string
    timestamp: string
    type: string
    data: Record<string, unknown>
  }
}

let fake: FakeHms
let receiver: Server
let receiverUrl: string
const received: Received[] = []
let keys = 0

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let text = ''
    req.on('data', (chunk) => (text += chunk))
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) })
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end('{"received":true}')
    })
  })
  await new Promise<void>((resolve) =>
    receiver.listen(0, '127.0.0.1', () => resolve()),
  )
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/100ms`
  fake = await startFakeHms({ retryDelaysMs: [] })
})

afterAll(async () => {
  await fake?.close()
  await new Promise((resolve) => receiver?.close(resolve))
})

let warnings: string[] = []
beforeEach(() => {
  warnings = []
  // The service logs what 100ms said (monitoring's JSON lines); tests read them instead of printing.
  vi.spyOn(console, 'warn').mockImplementation((line: string) => {
    warnings.push(line)
  })
})

afterEach(() => {
  fake.clearFailures()
  vi.restoreAllMocks()
})

/** Config for the shared fake. A fresh access key gives a test its own management-token cache entry. */
function config(overrides: Partial<HmsConfig> = {}): HmsConfig {
  return {
    HMS_API_BASE: fake.url,
    HMS_ACCESS_KEY: fake.accessKey,
    HMS_SECRET: fake.secret,
    HMS_TEMPLATE_ID: fake.templateId,
    HMS_WEBHOOK_URL: receiverUrl,
    HMS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...overrides,
  }
}

const roomName = () => `vibe-${(++keys).toString(36).padStart(4, '0')}`

/** Events delivered to the receiver for one room, in order, after the fake's queue drained. */
async function eventsOf(roomId: string) {
  await fake.idle()
  return received
    .filter((event) => event.body.data.room_id === roomId)
    .map((event) => event.body)
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

describe('tokens', () => {
  test('the app token is HS256 with exactly the claims 100ms expects, valid 24 h', async () => {
    const hms = createHms(config())
    const before = Math.floor(Date.now() / 1000)
    const token = await hms.appToken({
      roomId: 'room-1',
      userId: 'user-1',
      role: 'presenter',
    })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' })
    const { payload } = await jwtVerify(
      token,
      new TextEncoder().encode(fake.secret),
    )
    expect(Object.keys(payload).sort()).toEqual([
      'access_key',
      'exp',
      'iat',
      'jti',
      'nbf',
      'role',
      'room_id',
      'type',
      'user_id',
      'version',
    ])
    expect(payload).toMatchObject({
      access_key: fake.accessKey,
      type: 'app',
      version: 2,
      room_id: 'room-1',
      user_id: 'user-1',
      role: 'presenter',
    })
    expect(payload.jti).toMatch(UUID)
    expect(payload.iat).toBeGreaterThanOrEqual(before)
    expect(payload.nbf).toBe(payload.iat)
    expect(payload.exp! - payload.iat!).toBe(24 * 60 * 60)
    // A wrong secret does not verify it.
    await expect(
      jwtVerify(token, new TextEncoder().encode('another-secret-0123456789')),
    ).rejects.toThrow()
  })

  test('the management token has the management claims and is reused across calls', async () => {
    const accessKey = `key-reuse-${Date.now()}`
    const local = await startFakeHms({ accessKey })
    try {
      const hms = createHms(
        config({ HMS_API_BASE: local.url, HMS_ACCESS_KEY: accessKey }),
      )
      await hms.createRoom({ name: roomName() })
      await hms.createRoom({ name: roomName() })
      await hms.listActivePeers('nope')
      const [first, ...rest] = local.requests.map((r) => r.claims)
      expect(Object.keys(first!).sort()).toEqual([
        'access_key',
        'exp',
        'iat',
        'jti',
        'nbf',
        'type',
        'version',
      ])
      expect(first).toMatchObject({
        access_key: accessKey,
        type: 'management',
        version: 2,
      })
      expect(first!.jti).toMatch(UUID)
      expect(first!.exp! - first!.iat!).toBe(24 * 60 * 60)
      for (const claims of rest) expect(claims.jti).toBe(first!.jti)
      // Another service object in the same isolate shares the cache.
      await createHms(
        config({ HMS_API_BASE: local.url, HMS_ACCESS_KEY: accessKey }),
      ).listActivePeers('nope')
      expect(local.requests.at(-1)!.claims.jti).toBe(first!.jti)
    } finally {
      await local.close()
    }
  })

  test('a new management token is minted about an hour before the cached one expires', async () => {
    const accessKey = `key-renew-${Date.now()}`
    const local = await startFakeHms({ accessKey })
    try {
      // The clock starts 23.5 h in the past, so every token it issues is still valid now.
      const start = Date.now() - 23.5 * 60 * 60 * 1000
      let now = start
      const hms = createHms(
        config({ HMS_API_BASE: local.url, HMS_ACCESS_KEY: accessKey }),
        { now: () => now },
      )
      await hms.listActivePeers('nope')
      now = start + 22.9 * 60 * 60 * 1000
      await hms.listActivePeers('nope')
      now = start + 23.1 * 60 * 60 * 1000
      await hms.listActivePeers('nope')
      const [a, b, c] = local.requests.map((r) => r.claims)
      expect(b!.jti).toBe(a!.jti)
      expect(c!.jti).not.toBe(a!.jti)
      expect(c!.iat).toBe(Math.floor(now / 1000))
    } finally {
      await local.close()
    }
  })
})

describe('rooms and sessions', () => {
  test('createRoom sends the template and the webhook with our secret header; the same name is the same room', async () => {
    const hms = createHms(config())
    const name = roomName()
    const { id } = await hms.createRoom({
      name,
      description: 'Pairing on the parser',
    })
    expect(id).toMatch(/^[0-9a-z]{24}$/)
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v2/rooms',
      body: {
        name,
        description: 'Pairing on the parser',
        template_id: fake.templateId,
        webhook: {
          url: receiverUrl,
          headers: { 'x-kulti-webhook-secret': WEBHOOK_SECRET },
        },
      },
    })
    expect(fake.rooms.get(id)).toMatchObject({
      name,
      enabled: true,
      webhook: { url: receiverUrl },
    })
    expect((await hms.createRoom({ name })).id).toBe(id)
    // Without HMS_WEBHOOK_URL, the room keeps the dashboard's webhook.
    await createHms(config({ HMS_WEBHOOK_URL: undefined })).createRoom({
      name: roomName(),
    })
    expect(fake.requests.at(-1)!.body).not.toHaveProperty('webhook')
  })

  test('peers join, are listed, change role; disable and end-room round-trip with the webhooks 100ms sends', async () => {
    const hms = createHms(config())
    const { id } = await hms.createRoom({ name: roomName() })
    // No session yet: nothing to end, nobody in it.
    await hms.endActiveRoom(id, 'nobody here')
    expect(await hms.listActivePeers(id)).toEqual([])

    const host = await fake.joinPeer(id, {
      userId: 'user-host',
      role: 'host',
      name: 'Ada',
    })
    const viewer = await fake.joinPeer(id, {
      userId: 'user-viewer',
      name: 'Bob',
    })
    const peers = await hms.listActivePeers(id)
    expect(peers.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { peerId: host.peerId, userId: 'user-host', role: 'host', name: 'Ada' },
      {
        peerId: viewer.peerId,
        userId: 'user-viewer',
        role: 'viewer',
        name: 'Bob',
      },
    ])

    await hms.changePeerRole(id, viewer.peerId, 'presenter')
    expect(fake.rooms.get(id)!.session!.peers.get(viewer.peerId)!.role).toBe(
      'presenter',
    )

    await hms.endActiveRoom(id, 'The host ended the session')
    expect(fake.requests.at(-1)!.body).toEqual({
      reason: 'The host ended the session',
      lock: false,
    })
    await hms.disableRoom(id)
    expect(fake.rooms.get(id)!.enabled).toBe(false)
    expect(await hms.listActivePeers(id)).toEqual([])

    const events = await eventsOf(id)
    expect(events.map((e) => e.type)).toEqual([
      'session.open.success',
      'peer.join.success',
      'peer.join.success',
      'role.change.success',
      'peer.leave.success',
      'peer.leave.success',
      'session.close.success',
    ])
    const sessionId = host.sessionId
    for (const event of events) {
      expect(event.version).toBe('2.0')
      expect(event.id).toMatch(UUID)
      expect(event.timestamp).toMatch(WHOLE_SECONDS)
      expect(event.data).toMatchObject({ room_id: id, session_id: sessionId })
    }
    const [open, join, , change, leave, , close] = events
    expect(open!.data.session_started_at).toMatch(FRACTIONAL)
    expect(join!.data).toMatchObject({
      peer_id: host.peerId,
      user_id: 'user-host',
      user_name: 'Ada',
      role: 'host',
      type: 'regular',
      user_data: '',
    })
    expect(join!.data.joined_at).toMatch(FRACTIONAL)
    expect(change!.data).toMatchObject({
      peer_id: viewer.peerId,
      role: 'presenter',
      previous_role: 'viewer',
    })
    expect(change!.data).not.toHaveProperty('role_change_requested_by')
    expect(leave!.data).toMatchObject({ reason: 'room ended' })
    expect(leave!.data.left_at).toMatch(FRACTIONAL)
    expect(Number.isInteger(leave!.data.duration)).toBe(true)
    expect(Number.isInteger(close!.data.session_duration)).toBe(true)

    // Delivered with our header, as JSON.
    const delivered = received.find((r) => r.body.id === open!.id)!
    expect(delivered.headers['x-kulti-webhook-secret']).toBe(WEBHOOK_SECRET)
    expect(delivered.headers['content-type']).toBe('application/json')
  })

  test("every field the fake's webhooks carry is one 100ms's samples carry", async () => {
    const hms = createHms(config())
    const { id } = await hms.createRoom({ name: roomName() })
    const { peerId } = await fake.joinPeer(id, { userId: 'u1', role: 'host' })
    await fake.joinPeer(id, { userId: 'u2' })
    await hms.changePeerRole(id, peerId, 'presenter')
    await hms.startLiveStream(id)
    await hms.startRecording(id)
    await hms.stopLiveStream(id)
    await hms.stopRecording(id)
    await fake.leavePeer(id, peerId)
    await hms.endActiveRoom(id, 'done')
    const events = await eventsOf(id)
    const types = new Set(events.map((e) => e.type))
    expect([...types].sort()).toEqual([
      'beam.recording.success',
      'beam.started.success',
      'beam.stopped.success',
      'hls.started.success',
      'hls.stopped.success',
      'peer.join.success',
      'peer.leave.success',
      'role.change.success',
      'session.close.success',
      'session.open.success',
    ])
    for (const event of events) {
      const sample = JSON.parse(
        readFileSync(
          path.join('tests/fixtures/100ms/webhooks', `${event.type}.json`),
          'utf8',
        ),
      )
      expect(Object.keys(event).sort(), event.type).toEqual(
        [...Object.keys(sample), 'app_id']
          .filter((k, i, all) => all.indexOf(k) === i)
          .sort(),
      )
      const extra = Object.keys(event.data).filter(
        (key) => !(key in sample.data),
      )
      expect(extra, event.type).toEqual([])
      for (const [key, value] of Object.entries(sample.data)) {
        if (key in event.data && value !== null)
          expect(typeof event.data[key], `${event.type} ${key}`).toBe(
            typeof value,
          )
      }
    }
  })
})

describe('live streams and recordings', () => {
  test('a live stream starts, runs with a playlist, stops; stopping twice is fine', async () => {
    const hms = createHms(config())
    const { id } = await hms.createRoom({ name: roomName() })
    await fake.joinPeer(id, { userId: 'host', role: 'host' })
    const started = await hms.startLiveStream(id)
    expect(started).toMatchObject({
      roomId: id,
      status: 'starting',
      startedAt: null,
      stoppedAt: null,
    })
    expect(started.playbackUrl).toBe(
      `${fake.url}/hls/${started.id}/master.m3u8`,
    )
    const running = await hms.getLiveStream(started.id)
    expect(running.status).toBe('running')
    expect(running.startedAt).toBeInstanceOf(Date)
    const playlist = await fetch(running.playbackUrl!)
    expect(await playlist.text()).toMatch(/^#EXTM3U/)

    await hms.stopLiveStream(id)
    await hms.stopLiveStream(id)
    const stopped = await hms.getLiveStream(started.id)
    expect(stopped.status).toBe('completed')
    expect(stopped.stoppedAt!.getTime()).toBeGreaterThanOrEqual(
      running.startedAt!.getTime(),
    )
    const hls = (await eventsOf(id)).filter((e) => e.type.startsWith('hls.'))
    expect(hls.map((e) => e.type)).toEqual([
      'hls.started.success',
      'hls.stopped.success',
    ])
    expect(hls[0]!.data).toMatchObject({
      url: started.playbackUrl,
      job_id: started.id,
    })
    expect(hls[1]!.data).toMatchObject({ reason: 'client request' })
  })

  test('a recording starts, stops, completes with an asset and a presigned URL', async () => {
    const hms = createHms(config())
    const { id } = await hms.createRoom({ name: roomName() })
    const { sessionId } = await fake.joinPeer(id, {
      userId: 'host',
      role: 'host',
    })
    const started = await hms.startRecording(id)
    expect(started).toMatchObject({
      roomId: id,
      sessionId,
      status: 'starting',
      startedAt: null,
      assets: [],
    })
    await hms.stopRecording(id)
    await hms.stopRecording(id)
    const recording = await hms.getRecording(started.id)
    expect(recording.status).toBe('completed')
    expect(recording.startedAt).toBeInstanceOf(Date)
    expect(recording.stoppedAt).toBeInstanceOf(Date)
    expect(recording.assets).toHaveLength(1)
    const [asset] = recording.assets
    expect(asset).toMatchObject({
      type: 'room-composite',
      status: 'completed',
      format: 'mp4',
      resolution: { width: 1280, height: 720 },
      recordingId: null,
    })
    expect(asset!.sizeBytes).toBeGreaterThan(0)
    expect(asset!.durationSeconds).toBeGreaterThanOrEqual(0)

    const alone = await hms.getRecordingAsset(asset!.id)
    expect(alone).toMatchObject({
      id: asset!.id,
      recordingId: started.id,
      roomId: id,
      sessionId,
      path: asset!.path,
    })
    const link = await hms.getPresignedUrl(asset!.id)
    expect(link.expiresInSeconds).toBe(3600)
    expect(link.url).toContain(`/assets/${asset!.id}?`)

    const beam = (await eventsOf(id)).filter((e) => e.type.startsWith('beam.'))
    expect(beam.map((e) => e.type)).toEqual([
      'beam.started.success',
      'beam.stopped.success',
      'beam.recording.success',
    ])
    expect(beam[0]!.data).toMatchObject({
      job_id: started.id,
      session_id: sessionId,
    })
    expect(beam[2]!.data).toMatchObject({
      recording_id: started.id,
      recording_path: asset!.path,
      size: asset!.sizeBytes,
    })
  })

  test('a held recording stays in post_processing until the fake completes or fails it', async () => {
    const local = await startFakeHms({ autoCompleteRecordings: false })
    try {
      const hms = createHms(
        config({ HMS_API_BASE: local.url, HMS_WEBHOOK_URL: undefined }),
      )
      const { id } = await hms.createRoom({ name: roomName() })
      const first = await hms.startRecording(id)
      await hms.stopRecording(id)
      expect((await hms.getRecording(first.id)).status).toBe('post_processing')
      await local.completeRecording(first.id)
      expect((await hms.getRecording(first.id)).status).toBe('completed')

      const second = await hms.startRecording(id)
      await hms.stopRecording(id)
      await local.failRecording(second.id)
      expect((await hms.getRecording(second.id)).status).toBe('failed')
      expect(local.events.map((e) => e.type)).toContain('beam.failure')
    } finally {
      await local.close()
    }
  })

  test('failed webhook deliveries can be replayed, over at most 14 days', async () => {
    const hms = createHms(config())
    const to = new Date()
    const from = new Date(to.getTime() - 24 * 60 * 60 * 1000)
    const { workflowId } = await hms.replayFailedWebhooks({ from, to })
    expect(workflowId).toMatch(/^webhook-replay-/)
    expect(fake.requests.at(-1)!.body).toEqual({
      start_time: from.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      end_time: to.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    })
    const error = await caught(
      hms.replayFailedWebhooks({
        from: new Date(to.getTime() - 15 * 24 * 60 * 60 * 1000),
        to,
      }),
    )
    expect(isDomainError(error) && error.code).toBe('invalid_replay_window')
  })
})

describe('failures', () => {
  test('a 5xx is Unavailable with a message a person can act on', async () => {
    const hms = createHms(config())
    fake.fail('createRoom', 500)
    const error = await caught(hms.createRoom({ name: roomName() }))
    expect(isUnavailable(error)).toBe(true)
    expect(error).toMatchObject({
      service: '100ms',
      code: '100ms_unavailable',
      message: UNAVAILABLE_MESSAGE,
    })
    // The next call works again.
    await hms.createRoom({ name: roomName() })
  })

  test('a call that gets no answer is Unavailable within the timeout', async () => {
    const hms = createHms(config(), { timeoutMs: 300 })
    fake.fail('listActivePeers', 'timeout')
    const started = Date.now()
    const error = await caught(hms.listActivePeers('any'))
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(isUnavailable(error)).toBe(true)
    expect((error as Error).message).toBe(UNAVAILABLE_MESSAGE)
  })

  test('an answer that is not the shape we know is Unavailable', async () => {
    const hms = createHms(config())
    fake.fail('startLiveStream', 'garbage')
    expect(isUnavailable(await caught(hms.startLiveStream('x')))).toBe(true)
  })

  test('an unreachable API is Unavailable', async () => {
    const closed = await startFakeHms()
    const url = closed.url
    await closed.close()
    const hms = createHms(config({ HMS_API_BASE: url }))
    expect(isUnavailable(await caught(hms.createRoom({ name: 'x' })))).toBe(
      true,
    )
  })

  test('a 4xx is a DomainError 502 that says nothing of what 100ms answered', async () => {
    const hms = createHms(config())
    fake.fail('startRecording', 403)
    const refused = await caught(hms.startRecording('room'))
    expect(isDomainError(refused)).toBe(true)
    expect(refused).toMatchObject({
      code: 'video_service_refused',
      status: 502,
    })
    const message = (refused as Error).message
    expect(message).toContain('start the recording')
    expect(message).not.toMatch(/fake|injected|403|Bearer|eyJ/)
    // What 100ms said goes to the log, for operators; the token never does.
    expect(JSON.parse(warnings.at(-1)!)).toMatchObject({
      msg: '100ms refused a request',
      operation: 'startRecording',
      status: 403,
      hmsCode: 403,
      hmsMessage: 'fake failure of startRecording',
    })
    expect(warnings.join('\n')).not.toMatch(/Bearer|eyJ/)

    // A real refusal: a recording that does not exist.
    const missing = await caught(hms.getRecording('no-such-recording'))
    expect(missing).toMatchObject({
      code: 'video_service_refused',
      status: 502,
    })
    expect((missing as Error).message).not.toMatch(/not found/)
  })

  test('a wrong secret is refused by 100ms (401) and reported as a DomainError', async () => {
    const hms = createHms(
      config({
        HMS_ACCESS_KEY: `wrong-secret-${Date.now()}`,
        HMS_SECRET: 'not-the-secret-0123456789abcdef',
      }),
    )
    const error = await caught(hms.createRoom({ name: roomName() }))
    expect(error).toMatchObject({ code: 'video_service_refused', status: 502 })
    expect((error as Error).message).not.toContain('Token validation')
  })

  test('after a 401 the next call signs a new management token', async () => {
    const accessKey = `key-401-${Date.now()}`
    const local = await startFakeHms({ accessKey })
    try {
      const hms = createHms(
        config({ HMS_API_BASE: local.url, HMS_ACCESS_KEY: accessKey }),
      )
      await hms.listActivePeers('nope')
      local.fail('listActivePeers', 401)
      await caught(hms.listActivePeers('nope'))
      await hms.listActivePeers('nope')
      const [first, refused, next] = local.requests.map((r) => r.claims.jti)
      expect(refused).toBe(first)
      expect(next).not.toBe(first)
    } finally {
      await local.close()
    }
  })

  test('without credentials, every call says video is not configured', async () => {
    const hms = createHms({ HMS_API_BASE: fake.url })
    expect(hms.configured).toBe(false)
    expect(createHms(config({ HMS_TEMPLATE_ID: undefined })).configured).toBe(
      false,
    )
    const before = fake.requests.length
    const calls = [
      hms.createRoom({ name: 'x' }),
      hms.disableRoom('r'),
      hms.endActiveRoom('r', 'why'),
      hms.listActivePeers('r'),
      hms.changePeerRole('r', 'p', 'viewer'),
      hms.startLiveStream('r'),
      hms.stopLiveStream('r'),
      hms.getLiveStream('s'),
      hms.startRecording('r'),
      hms.stopRecording('r'),
      hms.getRecording('x'),
      hms.getRecordingAsset('a'),
      hms.getPresignedUrl('a'),
      hms.replayFailedWebhooks({ from: new Date(0), to: new Date(1000) }),
      hms.appToken({ roomId: 'r', userId: 'u', role: 'viewer' }),
    ]
    for (const call of calls) {
      const error = await caught(call)
      expect(isUnavailable(error)).toBe(true)
      expect(error).toMatchObject({
        code: 'video_not_configured',
        message:
          'Video is not configured on this server (HMS_ACCESS_KEY, HMS_SECRET, HMS_TEMPLATE_ID).',
      })
    }
    expect(fake.requests.length).toBe(before)
  })
})

describe("100ms's own samples", () => {
  // Verbatim from reference/100ms/api: placeholders, `null` times, 2 to 9 fractional digits.
  const SAMPLES: Record<string, unknown> = {
    'GET /v2/live-streams/s1': {
      id: '<stream_id>',
      room_id: '<room_id>>',
      session_id: '<session_id>',
      status: '<status>',
      destination: '<destination_name>',
      playback: { url: '<master-manifest>' },
      meeting_url: '<meeting_url>',
      recording: { hls_vod: true, single_file_per_layer: true },
      created_at: '2023-03-02T07:44:27.010516042Z',
      started_at: '2023-03-02T07:44:27.010516042Z',
      updated_at: '2023-03-02T07:44:27.010516042Z',
      stopped_at: '2023-03-02T07:44:27.010516042Z',
      started_by: '<peer_id>',
      stopped_by: '<peer_id>',
      recording_assets: [
        {
          id: '<asset-id>',
          thumbnails: ['<thumbnail_path'],
          duration: 42,
          path: '<recording_path',
          status: '<status>',
          created_at: '2023-03-02T07:44:27.010516042Z',
          type: '<asset-type>',
          size: 42,
          metadata: {
            resolution: { width: 1280, height: 720 },
            layer: '<layer_idx>',
          },
        },
      ],
    },
    'POST /v2/live-streams/room/r1/start': {
      id: '<stream_id>',
      room_id: '<room_id>',
      session_id: '<session_id>',
      status: 'starting',
      meeting_url: '<meeting_url>',
      playback: { url: '<master-manifest-url>' },
      recording: { hls_vod: true, single_file_per_layer: true },
      destination: '<destination_name>',
      created_at: '2023-03-22T04:24:10.155978231Z',
      started_at: null,
      updated_at: '2023-03-22T04:24:10.155978231Z',
      started_by: '',
      stopped_at: null,
      stopped_by: '',
      recording_assets: null,
    },
    'GET /v2/recordings/642531cf94091a5af841456d': {
      id: '642531cf94091a5af841456d',
      room_id: '635fe195f5e1f4a0abb7d1ae',
      session_id: '642531c8becbb0bb81952e36',
      status: 'completed',
      created_at: '2023-03-30T06:53:03.67Z',
      started_at: '2023-03-30T06:53:06.787Z',
      updated_at: '2023-03-30T06:54:02.431Z',
      stopped_at: '2023-03-30T06:53:58.182Z',
      meeting_url: '<meeting-url>',
      started_by: '3f174686-cef9-4d9e-b3d5-ed91773e7f3e',
      stopped_by: '',
      asset_types: ['room-composite', 'chat', 'transcript', 'summary'],
      recording_assets: [
        {
          id: '6425320e94091a5af841456f',
          thumbnails: null,
          metadata: { resolution: { width: 1280, height: 720 } },
          duration: 55,
          path: '<storage-path>',
          status: 'completed',
          created_at: '2023-03-30T06:54:06.45Z',
          type: 'room-composite',
          size: 26361961,
        },
        {
          id: '6425320e94091a5af841456d',
          metadata: { output_mode: 'txt' },
          duration: 55,
          path: '<storage-path>',
          status: 'completed',
          created_at: '2023-03-30T06:56:06.54Z',
          type: 'transcript',
          size: 50,
        },
      ],
    },
    'GET /v2/recording-assets/a1': {
      id: '<asset-id>',
      thumbnails: null,
      metadata: { num_layers: '4', max_width: 1280, max_height: 720 },
      duration: 100,
      path: '<storage-path>',
      status: 'completed',
      created_at: '2023-03-28T04:51:16.041Z',
      type: 'room-vod',
      size: 892154,
      job_id: '<job-id>',
      room_id: '<room-id>',
      session_id: '<session-id>',
    },
    'GET /v2/recording-assets/a1/presigned-url': {
      id: '<asset-id>',
      path: '<path-of-asset>',
      url: '<presigned-url>',
      expiry: 3600,
    },
    'GET /v2/active-rooms/r1/peers': {
      peers: {
        'dcd88eb0-83e6-486a-bcae-c3be5e0f2c20': {
          id: 'dcd88eb0-83e6-486a-bcae-c3be5e0f2c20',
          name: 'John',
          user_id: 'student-3461',
          metadata: '',
          role: 'student',
          joined_at: '2023-01-25T12:06:34.080990401Z',
        },
      },
    },
    'POST /v2/rooms': {
      id: '631b2654f771854d9bf633df',
      name: 'new-room-1662723668',
      enabled: true,
      description: 'This is a sample description for the room',
      customer_id: '627cdddff2e4e30487862ad1',
      app_id: '62510797903d857ab8ec3ba5',
      recording_info: { enabled: false },
      template_id: '63188115d11d6db790c73c60',
      template: 'sample-template-name',
      region: 'us',
      created_at: '2022-09-09T11:41:08.082Z',
      updated_at: '2022-09-09T11:41:08.074Z',
    },
    'POST /v2/active-rooms/r1/end-room': { message: 'session is ending' },
    'POST /v2/recordings/room/r1/stop': {
      limit: 1,
      data: [
        {
          id: '<recording-id>',
          room_id: '<room-id>',
          session_id: '<session-id>',
          status: 'stopping',
          created_at: '2023-03-30T06:53:03.67Z',
          started_at: '2023-03-30T06:53:06.787Z',
          updated_at: '2023-03-30T06:53:06.833Z',
          stopped_at: null,
          meeting_url: '<meeting-url>',
          started_by: '',
          stopped_by: '',
          asset_types: ['room-composite', 'chat', 'transcript', 'summary'],
          recording_assets: null,
        },
      ],
      last: '<recording-id>',
    },
    'POST /v2/analytics/webhooks/replay': {
      workflow_id: 'webhook-replay-customer123-a1b2c3d4',
      status: 'started',
      message: 'Webhook replay has been queued for processing',
      filters: {
        start_time: '2025-12-28T00:00:00Z',
        end_time: '2025-12-29T00:00:00Z',
        room_id: '',
        event_types: ['peer.join.success', 'peer.leave.success'],
      },
    },
  }
  let samples: Server
  let hms: ReturnType<typeof createHms>

  beforeAll(async () => {
    samples = createServer((req, res) => {
      const body = SAMPLES[`${req.method} ${req.url}`]
      res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body ?? { code: 404, message: 'not found' }))
    })
    await new Promise<void>((resolve) =>
      samples.listen(0, '127.0.0.1', () => resolve()),
    )
    hms = createHms(
      config({
        HMS_API_BASE: `http://127.0.0.1:${(samples.address() as AddressInfo).port}`,
        HMS_ACCESS_KEY: `samples-${Date.now()}`,
      }),
    )
  })
  afterAll(async () => {
    await new Promise((resolve) => samples?.close(resolve))
  })

  test('parse into our types', async () => {
    expect(await hms.getLiveStream('s1')).toEqual({
      id: '<stream_id>',
      roomId: '<room_id>>',
      sessionId: '<session_id>',
      status: '<status>',
      playbackUrl: '<master-manifest>',
      startedAt: new Date('2023-03-02T07:44:27.010Z'),
      stoppedAt: new Date('2023-03-02T07:44:27.010Z'),
    })
    expect(await hms.startLiveStream('r1')).toMatchObject({
      status: 'starting',
      startedAt: null,
      stoppedAt: null,
    })
    const recording = await hms.getRecording('642531cf94091a5af841456d')
    expect(recording).toMatchObject({
      status: 'completed',
      createdAt: new Date('2023-03-30T06:53:03.670Z'),
      stoppedAt: new Date('2023-03-30T06:53:58.182Z'),
    })
    expect(recording.assets[0]).toEqual({
      id: '6425320e94091a5af841456f',
      recordingId: null,
      roomId: null,
      sessionId: null,
      type: 'room-composite',
      status: 'completed',
      path: '<storage-path>',
      durationSeconds: 55,
      sizeBytes: 26361961,
      createdAt: new Date('2023-03-30T06:54:06.450Z'),
      resolution: { width: 1280, height: 720 },
      format: null,
    })
    expect(recording.assets[1]!.resolution).toBeNull()
    expect(await hms.getRecordingAsset('a1')).toMatchObject({
      recordingId: '<job-id>',
      resolution: { width: 1280, height: 720 },
    })
    expect(await hms.getPresignedUrl('a1')).toEqual({
      url: '<presigned-url>',
      expiresInSeconds: 3600,
    })
    expect(await hms.listActivePeers('r1')).toEqual([
      {
        peerId: 'dcd88eb0-83e6-486a-bcae-c3be5e0f2c20',
        userId: 'student-3461',
        role: 'student',
        name: 'John',
      },
    ])
    expect(await hms.createRoom({ name: 'new-room-1662723668' })).toEqual({
      id: '631b2654f771854d9bf633df',
    })
    await hms.endActiveRoom('r1', 'Class has ended')
    await hms.stopRecording('r1')
    expect(
      await hms.replayFailedWebhooks({
        from: new Date('2025-12-28T00:00:00Z'),
        to: new Date('2025-12-29T00:00:00Z'),
      }),
    ).toEqual({ workflowId: 'webhook-replay-customer123-a1b2c3d4' })
  })
})

describe('the fake refuses management tokens 100ms would refuse', () => {
  const sign = (
    claims: Record<string, unknown>,
    secret: string,
    expiresIn: number,
  ) => {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ access_key: fake.accessKey, version: 2, ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti(crypto.randomUUID())
      .setIssuedAt(now - 7200)
      .setNotBefore(now - 7200)
      .setExpirationTime(now + expiresIn)
      .sign(new TextEncoder().encode(secret))
  }
  const call = (token?: string) =>
    fetch(`${fake.url}/v2/rooms`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ name: 'refused' }),
    })

  test.each([
    ['no token', undefined],
    ['an expired token', () => sign({ type: 'management' }, fake.secret, -60)],
    [
      'a token signed with another secret',
      () => sign({ type: 'management' }, 'another-secret-0123456789', 3600),
    ],
    ['an app token', () => sign({ type: 'app' }, fake.secret, 3600)],
    [
      'a token for another access key',
      () =>
        sign(
          { type: 'management', access_key: 'someone-else' },
          fake.secret,
          3600,
        ),
    ],
  ])('%s → 401 in the shape of error.response.json', async (_, token) => {
    const before = fake.rooms.size
    const response = await call(
      typeof token === 'function' ? await token() : token,
    )
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      code: 401,
      message: 'Token validation error',
      details: [expect.any(String)],
    })
    expect(fake.rooms.size).toBe(before)
  })

  test('a valid management token is accepted', async () => {
    const response = await call(
      await sign({ type: 'management' }, fake.secret, 3600),
    )
    expect(response.status).toBe(200)
  })
})

describe('the control API', () => {
  test('drives peers and failures over HTTP, as other processes do', async () => {
    const hms = createHms(config())
    const name = roomName()
    const { id } = await hms.createRoom({ name })
    const join = await fetch(
      `${fake.url}/_fake/rooms/${name.toUpperCase()}/peers`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          userId: 'remote-user',
          role: 'viewer',
          name: 'Remote',
        }),
      },
    )
    expect(join.status).toBe(201)
    const { peerId, roomId, sessionId } = (await join.json()) as {
      peerId: string
      roomId: string
      sessionId: string
    }
    expect(roomId).toBe(id)
    // Answered after the webhooks went out.
    expect(
      received
        .filter((r) => r.body.data.session_id === sessionId)
        .map((r) => r.body.type),
    ).toEqual(['session.open.success', 'peer.join.success'])
    const room = (await (
      await fetch(`${fake.url}/_fake/rooms/${name}`)
    ).json()) as { session: { peers: unknown[] } }
    expect(room.session.peers).toEqual([
      expect.objectContaining({ id: peerId, user_id: 'remote-user' }),
    ])

    await fetch(`${fake.url}/_fake/fail`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ call: 'listActivePeers', mode: 503, times: 2 }),
    })
    expect(isUnavailable(await caught(hms.listActivePeers(id)))).toBe(true)
    expect(isUnavailable(await caught(hms.listActivePeers(id)))).toBe(true)
    expect(await hms.listActivePeers(id)).toHaveLength(1)

    const leave = await fetch(`${fake.url}/_fake/rooms/${id}/peers/${peerId}`, {
      method: 'DELETE',
    })
    expect(leave.status).toBe(200)
    expect(
      received
        .filter((r) => r.body.data.session_id === sessionId)
        .map((r) => r.body.type)
        .slice(2),
    ).toEqual(['peer.leave.success', 'session.close.success'])
    const state = (await (await fetch(`${fake.url}/_fake/state`)).json()) as {
      rooms: Array<{ id: string; session: unknown }>
    }
    expect(state.rooms.find((r) => r.id === id)!.session).toBeNull()
  })
})
