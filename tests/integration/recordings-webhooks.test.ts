import { describe, expect, test } from 'vitest'
import { webhookSample } from '../support/webhook-samples'
import { useWorkersOnTestDatabase } from '../support/workers'

// The recording state machine through the webhooks Worker (SPEC §4, §5): the same 300 lifecycles
// delivered in order to one set of recordings, and shuffled with duplicates (redeliveries with the
// same event id, and repeats under a new id) to another, must end in exactly the same rows.
// Sessions and recording rows are seeded directly: starting them is not what is under test here.
const stack = useWorkersOnTestDatabase()

const LIFECYCLES = 300
const T0 = Date.parse('2026-03-02T10:00:00Z')

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const seconds = (ms: number) =>
  new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const nanos = (ms: number, extra: number) =>
  new Date(ms).toISOString().replace(/Z$/, `${String(extra).padStart(6, '0')}Z`)

interface Planned {
  type: string
  at: number
  data: Record<string, unknown>
}

/** The events of lifecycle `i`, in the order 100ms would send them; ids depend on the set. */
function lifecycle(i: number, kind: number, set: string): Planned[] {
  const room = `room-${set}-${i}`
  const session = `sess-${set}-${i}`
  const job = `job-${set}-${i}`
  const beam = `beam-${i}`
  const start = T0 + i * 60_000
  const length = 30 + (i % 50)
  const stopAt = start + length * 1000
  const path = `s3://bucket/recordings/${i}/composite.mp4`
  const beamData = (at: number) => ({
    room_id: room,
    session_id: session,
    job_id: job,
    beam_id: beam,
    metadata_timestamp: nanos(at, i),
    max_width: 1280,
    max_height: 720,
  })
  const started: Planned = {
    type: 'beam.started.success',
    at: start,
    data: beamData(start),
  }
  const stopped: Planned = {
    type: 'beam.stopped.success',
    at: stopAt,
    data: { ...beamData(stopAt), duration: length, reason: 'client request' },
  }
  const doneAt = stopAt + 5_000
  const { job_id: _, ...withoutJob } = beamData(doneAt)
  const recorded: Planned = {
    type: 'beam.recording.success',
    at: doneAt,
    data: {
      ...withoutJob,
      recording_id: job,
      recording_path: path,
      created_at: nanos(doneAt, 1),
      started_at: nanos(start, 2),
      stopped_at: nanos(stopAt, 3),
      duration: length + 1,
      size: (length + 1) * 125_000,
    },
  }
  const failure = (at: number): Planned => ({
    type: 'beam.failure',
    at,
    data: {
      ...beamData(at),
      error_code: 1,
      error_message: `Failed to upload recording ${i}.`,
      error_type: 'UPLOAD_ERROR',
      duration: length,
    },
  })
  switch (kind) {
    case 0:
      return [started, stopped, recorded]
    case 1:
      // The v1 event, later, names the session only; its values win (a later completed event).
      return [
        started,
        stopped,
        recorded,
        {
          type: 'recording.success',
          at: doneAt + 10_000,
          data: {
            room_id: room,
            session_id: session,
            recording_path: `s3://bucket/recordings/${i}/legacy.mp4`,
            size: 999_000 + i,
            duration: length + 2,
          },
        },
      ]
    case 2:
      return [started, failure(start + 2_000)]
    case 3:
      return [started, stopped, failure(doneAt)]
    case 4:
      return [
        started,
        stopped,
        {
          type: 'recording.failed',
          at: doneAt,
          data: {
            room_id: room,
            session_id: session,
            error: 'INTERNAL_ERROR',
            error_type: 'CONFIG_ERROR',
          },
        },
      ]
    case 5:
      return [
        started,
        stopped,
        {
          type: 'hls.recording.success',
          at: doneAt,
          data: {
            room_id: room,
            session_id: session,
            beam_id: beam,
            recording_id: job,
            metadata_timestamp: nanos(doneAt, i),
            duration: length,
            max_width: 1920,
            max_height: 1080,
            hls_vod_recording_path: `s3://bucket/hls/${i}/master.m3u8`,
            hls_vod_recording_size: length * 200_000,
            started_at: nanos(start, 4),
            stopped_at: nanos(stopAt, 5),
          },
        },
      ]
    case 6:
      return [started]
    default:
      return [started, stopped]
  }
}

/** The envelope of 100ms's documented sample for the type, with our data over the sample's. */
function envelope(planned: Planned) {
  const sample = webhookSample(planned.type)
  return {
    ...sample,
    timestamp: seconds(planned.at),
    data: { ...sample.data, ...planned.data },
  }
}

async function seed(set: string): Promise<void> {
  const [host] = await stack.database.query<{ id: string }>(
    "INSERT INTO users (display_name) VALUES ('Seeded host') RETURNING id",
  )
  await stack.database.query(
    `WITH s AS (
       INSERT INTO live_sessions (room_code, hms_room_id, host_id, title, is_public)
       SELECT 'SEED' || $2 || '-' || i, 'room-' || $2 || '-' || i, $1, 'Seeded ' || i, true
       FROM generate_series(0, $3 - 1) i
       RETURNING id, hms_room_id)
     INSERT INTO recordings (session_id, status, hms_recording_id, hms_session_id, created_at)
     SELECT s.id, 'recording', replace(s.hms_room_id, 'room-', 'job-'),
       replace(s.hms_room_id, 'room-', 'sess-'), now() - interval '1 day'
     FROM s`,
    [host!.id, set, LIFECYCLES],
  )
}

async function deliver(body: unknown) {
  const response = await stack.workers.deliverWebhook(JSON.stringify(body))
  expect(response.status).toBe(200)
}

async function rowsOf(set: string) {
  const rows = await stack.database.query<Record<string, unknown>>(
    `SELECT r.hms_recording_id, r.status, r.hms_session_id, r.hms_beam_id, r.hms_asset_id,
       r.asset_path, r.started_at, r.stopped_at, r.duration_seconds, r.size_bytes, r.width,
       r.height, r.format, r.failure_reason, r.applied_rank, r.applied_event_at,
       r.applied_event_type
     FROM recordings r WHERE r.hms_recording_id LIKE $1
     ORDER BY split_part(r.hms_recording_id, '-', 3)::int`,
    [`job-${set}-%`],
  )
  // The 100ms ids name their set; everything else must be identical.
  return rows.map((row) =>
    JSON.parse(JSON.stringify(row).replaceAll(`-${set}-`, '-X-')),
  )
}

describe('recording webhooks', () => {
  test('300 lifecycles delivered with duplicates and shuffled end in exactly the rows of in-order delivery', async () => {
    const rand = random(20260302)
    const kinds = Array.from({ length: LIFECYCLES }, () =>
      Math.floor(rand() * 8),
    )
    await seed('a')
    await seed('b')

    // In order: every lifecycle's events as sent, lifecycles one after another.
    for (let i = 0; i < LIFECYCLES; i++)
      for (const planned of lifecycle(i, kinds[i]!, 'a'))
        await deliver({ ...envelope(planned), id: crypto.randomUUID() })

    // Shuffled, with redeliveries (same id) and repeats (new id), several in flight at once.
    const deliveries: unknown[] = []
    for (let i = 0; i < LIFECYCLES; i++)
      for (const planned of lifecycle(i, kinds[i]!, 'b')) {
        const event = { ...envelope(planned), id: crypto.randomUUID() }
        deliveries.push(event)
        if (rand() < 0.3) deliveries.push(event)
        if (rand() < 0.15)
          deliveries.push({ ...event, id: crypto.randomUUID() })
      }
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]]
    }
    const queue = [...deliveries]
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift())
          await deliver(next)
      }),
    )

    const inOrder = await rowsOf('a')
    const shuffled = await rowsOf('b')
    expect(inOrder).toHaveLength(LIFECYCLES)
    expect(shuffled).toEqual(inOrder)

    // And the rows say what the lifecycles did.
    const byKind = (kind: number) => inOrder.filter((_, i) => kinds[i] === kind)
    expect(byKind(0)[0]).toMatchObject({
      status: 'completed',
      format: 'mp4',
      width: 1280,
      height: 720,
      applied_event_type: 'beam.recording.success',
    })
    expect(byKind(1)[0]).toMatchObject({
      status: 'completed',
      asset_path: expect.stringMatching(/legacy\.mp4$/),
    })
    expect(byKind(2)[0]).toMatchObject({
      status: 'failed',
      failure_reason: expect.stringMatching(/^Failed to upload recording/),
    })
    expect(byKind(3)[0]).toMatchObject({ status: 'failed' })
    expect(byKind(3)[0]!.stopped_at).not.toBeNull()
    expect(byKind(4)[0]).toMatchObject({
      status: 'failed',
      failure_reason: 'CONFIG_ERROR: INTERNAL_ERROR',
    })
    expect(byKind(5)[0]).toMatchObject({
      status: 'completed',
      format: 'hls',
      width: 1920,
      height: 1080,
    })
    expect(byKind(6)[0]).toMatchObject({ status: 'recording' })
    expect(byKind(7)[0]).toMatchObject({ status: 'processing' })
    for (let kind = 0; kind < 8; kind++)
      expect(byKind(kind).length).toBeGreaterThan(0)
  }, 180_000)

  test('a late event never moves a recording back, and terminal is final', async () => {
    await seed('c')
    const [started, stopped, recorded] = lifecycle(0, 0, 'c')
    await deliver({ ...envelope(recorded!), id: crypto.randomUUID() })
    await deliver({ ...envelope(stopped!), id: crypto.randomUUID() })
    await deliver({ ...envelope(started!), id: crypto.randomUUID() })
    const failure = lifecycle(0, 3, 'c').at(-1)!
    await deliver({
      ...envelope({ ...failure, at: failure.at + 60_000 }),
      id: crypto.randomUUID(),
    })
    // A start delivered after the stop leaves it processing, and only fills the start time.
    const [started1, stopped1] = lifecycle(1, 7, 'c')
    await deliver({ ...envelope(stopped1!), id: crypto.randomUUID() })
    await deliver({ ...envelope(started1!), id: crypto.randomUUID() })
    const [completed, processing] = await rowsOf('c')
    expect(completed).toMatchObject({
      status: 'completed',
      failure_reason: null,
      format: 'mp4',
    })
    expect(completed!.stopped_at).not.toBeNull()
    expect(processing).toMatchObject({ status: 'processing' })
    expect(processing!.started_at).not.toBeNull()
  })
})
