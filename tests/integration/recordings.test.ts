import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFakeHms } from '../support/fake-hms'
import { signUp, type TestClient } from '../support/auth'
import { useWorkersOnTestDatabase } from '../support/workers'

// Recordings through the built Workers, against PostgreSQL and a fake 100ms (SPEC §4): host-only
// controls, access to the recordings, the webhook lifecycle, playback URLs and reconciliation.
// The fake holds stopped recordings in post_processing until a test completes them, and its rooms
// have no webhook URL: tests forward the events it emitted to the webhooks Worker themselves.
const fake = useFakeHms({ autoCompleteRecordings: false })

const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  HLS_VIEWER_THRESHOLD: '1000',
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'session-create': { limit: 1000, periodSeconds: 3600 },
    'recording-control': { limit: 1000, periodSeconds: 3600 },
    mutation: { limit: 10_000, periodSeconds: 60 },
  }),
}))

const HOURLY = '0 * * * *'
const onPglite = !process.env.TEST_DATABASE_URL

let counter = 0
const person = (name: string) =>
  signUp(stack.workers, {
    ip: `198.18.${Math.floor(++counter / 250)}.${counter % 250}`,
    profile: {
      username: `${name}${Date.now() % 1e7}${counter}`,
      displayName: name,
    },
  })

interface RecordingJson {
  id: string
  sessionId: string
  status: string
  role: string
  durationSeconds: number | null
  sizeBytes: number | null
  format: string | null
  resolution: { width: number; height: number } | null
  playbackUrl?: string | null
}

async function createSession(host: TestClient, title = 'Recorded talk') {
  const response = await host.send('POST', '/api/sessions', {
    title,
    isPublic: true,
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return ((await response.json()) as { session: { id: string } }).session
}

/** `user` joins the session as a viewer (a participant row), as the room page does. */
async function join(user: TestClient, sessionId: string) {
  const response = await user.send(
    'POST',
    `/api/sessions/${sessionId}/token`,
    {},
  )
  expect(response.status).toBe(200)
}

const start = (user: TestClient, sessionId: string) =>
  user.send('POST', '/api/hms/start-recording', { sessionId })
const stop = (user: TestClient, sessionId: string) =>
  user.send('POST', '/api/hms/stop-recording', { sessionId })

async function startOk(host: TestClient, sessionId: string) {
  const response = await start(host, sessionId)
  expect(response.status, await response.clone().text()).toBe(201)
  return ((await response.json()) as { recording: RecordingJson }).recording
}

async function row(id: string) {
  const [found] = await stack.database.query<Record<string, unknown>>(
    'SELECT * FROM recordings WHERE id = $1',
    [id],
  )
  return found
}

const forwarded = new Set<string>()
/** Delivers every event the fake emitted (and we have not delivered yet) to the webhooks Worker. */
async function forwardEvents() {
  await fake.hms.idle()
  for (const event of fake.hms.events) {
    if (forwarded.has(event.id)) continue
    forwarded.add(event.id)
    const response = await stack.workers.deliverWebhook(JSON.stringify(event))
    expect(response.status).toBe(200)
  }
}

/** The fake's recording job (its REST id is what our row stores). */
async function hmsRecordingId(id: string) {
  const found = await row(id)
  expect(found?.hms_recording_id).toEqual(expect.any(String))
  return found!.hms_recording_id as string
}

describe('starting and stopping', () => {
  test('the host records: the lifecycle from the fake ends completed with the file details', async () => {
    const host = await person('Rec')
    const session = await createSession(host)
    const recording = await startOk(host, session.id)
    expect(recording).toMatchObject({
      sessionId: session.id,
      status: 'recording',
      role: 'host',
    })
    const jobId = await hmsRecordingId(recording.id)
    expect(fake.hms.recordings.get(jobId)?.status).toBe('running')
    await forwardEvents()
    expect((await row(recording.id))?.started_at).not.toBeNull()

    const stopped = await stop(host, session.id)
    expect(stopped.status).toBe(200)
    expect(
      ((await stopped.json()) as { recording: RecordingJson }).recording.status,
    ).toBe('processing')
    await forwardEvents()
    expect((await row(recording.id))?.status).toBe('processing')

    await fake.hms.completeRecording(jobId)
    await forwardEvents()
    const asset = fake.hms.recordings.get(jobId)!.assets[0]!
    expect(await row(recording.id)).toMatchObject({
      status: 'completed',
      asset_path: asset.path,
      format: 'mp4',
      duration_seconds: asset.duration,
      size_bytes: String(asset.size),
      width: 1280,
      height: 720,
    })
    // Stopping again: nothing is running.
    expect((await stop(host, session.id)).status).toBe(409)
  })

  test('GET of a completed recording answers a fresh presigned URL from 100ms, never stored', async () => {
    const host = await person('Play')
    const session = await createSession(host)
    const recording = await startOk(host, session.id)
    const jobId = await hmsRecordingId(recording.id)
    expect((await stop(host, session.id)).status).toBe(200)
    await fake.hms.completeRecording(jobId)
    await forwardEvents()

    const presignsBefore = fake.hms.requests.filter(
      (r) => r.call === 'getPresignedUrl',
    ).length
    const response = await host.get(`/api/recordings/${recording.id}`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { recording: RecordingJson }
    const asset = fake.hms.recordings.get(jobId)!.assets[0]!
    expect(body.recording.status).toBe('completed')
    expect(body.recording.playbackUrl).toMatch(
      new RegExp(
        `^${fake.hms.assetsUrl}/assets/${asset.id}\\?expires=\\d+&signature=`,
      ),
    )
    expect(
      fake.hms.requests.filter((r) => r.call === 'getPresignedUrl').length,
    ).toBe(presignsBefore + 1)
    // Nothing of the URL is kept in the row.
    expect(JSON.stringify(await row(recording.id))).not.toContain('signature')
    // A processing or failed recording has none.
    const other = await createSession(host, 'Not yet')
    const pending = await startOk(host, other.id)
    const again = (await (
      await host.get(`/api/recordings/${pending.id}`)
    ).json()) as { recording: RecordingJson }
    expect(again.recording.playbackUrl).toBeNull()
  })

  test('a 100ms failure on start leaves no row and the session can be recorded afterwards', async () => {
    const host = await person('Flaky')
    const session = await createSession(host)
    fake.hms.fail('startRecording', 500)
    const failed = await start(host, session.id)
    expect(failed.status).toBe(503)
    const rows = await stack.database.query(
      'SELECT id FROM recordings WHERE session_id = $1',
      [session.id],
    )
    expect(rows).toEqual([])
    await startOk(host, session.id)
  })

  test('one active recording per session: a second start is a 409', async () => {
    const host = await person('Twice')
    const session = await createSession(host)
    await startOk(host, session.id)
    const second = await start(host, session.id)
    expect(second.status).toBe(409)
    expect(await second.json()).toMatchObject({
      error: { code: 'recording_active' },
    })
  })

  test.skipIf(onPglite)(
    'two concurrent starts give one 201 and one 409',
    async () => {
      const host = await person('Race')
      for (let round = 0; round < 5; round++) {
        const session = await createSession(host, `Race ${round}`)
        const statuses = (
          await Promise.all([start(host, session.id), start(host, session.id)])
        )
          .map((r) => r.status)
          .sort()
        expect(statuses).toEqual([201, 409])
        const rows = await stack.database.query(
          'SELECT id FROM recordings WHERE session_id = $1',
          [session.id],
        )
        expect(rows).toHaveLength(1)
      }
    },
  )
  if (onPglite)
    console.warn(
      'recordings: the concurrent-start test needs PostgreSQL (set TEST_DATABASE_URL); skipped on PGlite',
    )

  test('an ended session cannot be recorded (410)', async () => {
    const host = await person('Over')
    const session = await createSession(host)
    expect(
      (await host.send('POST', `/api/sessions/${session.id}/end`, {})).status,
    ).toBe(200)
    expect((await start(host, session.id)).status).toBe(410)
  })
})

describe('who may do what', () => {
  test('a viewer cannot start, stop or delete (403); a stranger gets 404; a user who never joined cannot list or read it', async () => {
    const host = await person('Owner')
    const viewer = await person('Viewer')
    const stranger = await person('Stranger')
    const session = await createSession(host)
    await join(viewer, session.id)

    expect((await start(viewer, session.id)).status).toBe(403)
    expect((await start(stranger, session.id)).status).toBe(404)
    const recording = await startOk(host, session.id)
    expect((await stop(viewer, session.id)).status).toBe(403)
    expect((await stop(stranger, session.id)).status).toBe(404)
    expect((await row(recording.id))?.status).toBe('recording')
    expect((await stop(host, session.id)).status).toBe(200)

    // The viewer took part: they list and read it, as a viewer.
    const listed = (await (
      await viewer.get('/api/recordings/list')
    ).json()) as {
      recordings: RecordingJson[]
    }
    expect(listed.recordings.map((r) => [r.id, r.role])).toEqual([
      [recording.id, 'viewer'],
    ])
    expect((await viewer.get(`/api/recordings/${recording.id}`)).status).toBe(
      200,
    )
    // The stranger never joined: not listed, not readable, not even its existence.
    const strangers = (await (
      await stranger.get('/api/recordings/list')
    ).json()) as { recordings: RecordingJson[] }
    expect(strangers.recordings).toEqual([])
    const read = await stranger.get(`/api/recordings/${recording.id}`)
    expect(read.status).toBe(404)

    expect(
      (await viewer.send('DELETE', `/api/recordings/${recording.id}`)).status,
    ).toBe(403)
    expect(
      (await stranger.send('DELETE', `/api/recordings/${recording.id}`)).status,
    ).toBe(404)
    expect(await row(recording.id)).toBeDefined()
  })

  test("another host's recording id in DELETE is 404 and the row stays; the host deletes it (204)", async () => {
    const host = await person('Keeper')
    const otherHost = await person('Intruder')
    const session = await createSession(host)
    await createSession(otherHost, 'Their own')
    const recording = await startOk(host, session.id)
    expect((await stop(host, session.id)).status).toBe(200)

    const refused = await otherHost.send(
      'DELETE',
      `/api/recordings/${recording.id}`,
    )
    expect(refused.status).toBe(404)
    expect(await row(recording.id)).toBeDefined()

    const deleted = await host.send('DELETE', `/api/recordings/${recording.id}`)
    expect(deleted.status).toBe(204)
    expect(await row(recording.id)).toBeUndefined()
    expect((await host.get(`/api/recordings/${recording.id}`)).status).toBe(404)
  })

  test('a running recording must be stopped before it is deleted', async () => {
    const host = await person('Hasty')
    const session = await createSession(host)
    const recording = await startOk(host, session.id)
    const response = await host.send(
      'DELETE',
      `/api/recordings/${recording.id}`,
    )
    expect(response.status).toBe(409)
    expect(await row(recording.id)).toBeDefined()
  })
})

describe('account deletion', () => {
  test("deleting the host's account removes the recordings of their sessions", async () => {
    const name = `Leaver${Date.now() % 1e7}`
    const host = await signUp(stack.workers, {
      ip: '198.18.250.1',
      profile: { username: name.toLowerCase(), displayName: name },
    })
    const session = await createSession(host)
    const recording = await startOk(host, session.id)
    expect((await stop(host, session.id)).status).toBe(200)
    const deleted = await host.send('DELETE', '/api/me', {
      confirm: name.toLowerCase(),
    })
    expect(deleted.status).toBe(204)
    expect(await row(recording.id)).toBeUndefined()
  })
})

describe('listing', () => {
  test('filters, search, sort and cursor pages; bad queries are 400', async () => {
    const host = await person('Lister')
    const ids: string[] = []
    for (const title of ['Alpha talk', 'Beta talk', 'Gamma 100%']) {
      const session = await createSession(host, title)
      ids.push((await startOk(host, session.id)).id)
      expect((await stop(host, session.id)).status).toBe(200)
    }
    const page = async (query: string) => {
      const response = await host.get(`/api/recordings/list?${query}`)
      expect(response.status, await response.clone().text()).toBe(200)
      return (await response.json()) as {
        recordings: Array<RecordingJson & { sessionTitle: string }>
        nextCursor: string | null
      }
    }
    const first = await page('limit=2')
    expect(first.recordings.map((r) => r.id)).toEqual([ids[2], ids[1]])
    const second = await page(`limit=2&cursor=${first.nextCursor}`)
    expect(second.recordings.map((r) => r.id)).toEqual([ids[0]])
    expect(second.nextCursor).toBeNull()
    expect((await page('sort=oldest')).recordings.map((r) => r.id)).toEqual(ids)
    expect(
      (await page('q=beta')).recordings.map((r) => r.sessionTitle),
    ).toEqual(['Beta talk'])
    expect(
      (await page('q=100%25')).recordings.map((r) => r.sessionTitle),
    ).toEqual(['Gamma 100%'])
    expect((await page('role=participant')).recordings).toEqual([])
    expect((await page('status=processing&role=host')).recordings).toHaveLength(
      3,
    )
    expect((await page('status=completed')).recordings).toEqual([])
    expect((await page('from=2000-01-01&to=2000-01-02')).recordings).toEqual([])

    for (const bad of ['limit=101', 'status=done', 'sort=size', 'cursor=%%']) {
      expect((await host.get(`/api/recordings/list?${bad}`)).status).toBe(400)
    }
    expect(
      (await host.get('/api/recordings/list?cursor=bm90LWEtY3Vyc29y')).status,
    ).toBe(400)
  })
})

describe('reconciliation', () => {
  test('a recording stuck in processing that 100ms reports completed is completed by one run; a second run changes nothing', async () => {
    const host = await person('Stuck')
    const session = await createSession(host)
    const recording = await startOk(host, session.id)
    const jobId = await hmsRecordingId(recording.id)
    expect((await stop(host, session.id)).status).toBe(200)
    // 100ms finished it, but the webhook never arrived.
    await fake.hms.completeRecording(jobId)
    await stack.database.query(
      "UPDATE recordings SET updated_at = now() - interval '3 hours' WHERE id = $1",
      [recording.id],
    )
    expect((await row(recording.id))?.status).toBe('processing')

    const replaysBefore = fake.hms.requests.filter(
      (r) => r.call === 'replayFailedWebhooks',
    ).length
    expect((await stack.workers.scheduled(HOURLY)).outcome).toBe('ok')
    const asset = fake.hms.recordings.get(jobId)!.assets[0]!
    const fixed = await row(recording.id)
    expect(fixed).toMatchObject({
      status: 'completed',
      hms_asset_id: asset.id,
      asset_path: asset.path,
      format: 'mp4',
      duration_seconds: asset.duration,
      size_bytes: String(asset.size),
      width: 1280,
      height: 720,
    })
    // Failed deliveries are asked for again through the replay API.
    expect(
      fake.hms.requests.filter((r) => r.call === 'replayFailedWebhooks').length,
    ).toBe(replaysBefore + 1)

    expect((await stack.workers.scheduled(HOURLY)).outcome).toBe('ok')
    expect(await row(recording.id)).toEqual(fixed)
    // The late webhooks move nothing back: they only fill what was still empty (the beam id).
    await forwardEvents()
    const { hms_beam_id: _, updated_at: __, ...settled } = fixed!
    expect(await row(recording.id)).toMatchObject(settled)
  })

  test('a recording still running in 100ms is left as it is', async () => {
    const host = await person('Long')
    const session = await createSession(host)
    const recording = await startOk(host, session.id)
    await stack.database.query(
      "UPDATE recordings SET updated_at = now() - interval '3 hours' WHERE id = $1",
      [recording.id],
    )
    const before = await row(recording.id)
    expect((await stack.workers.scheduled(HOURLY)).outcome).toBe('ok')
    expect(await row(recording.id)).toEqual(before)
  })
})
