import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFakeHms } from '../support/fake-hms'
import { signUp, type TestClient } from '../support/auth'
import { webhookSample } from '../support/webhook-samples'
import { useWorkersOnTestDatabase } from '../support/workers'

// Big audiences (SPEC §2): at HLS_VIEWER_THRESHOLD live viewers (2 here) the server starts the HLS
// stream, and once 100ms reports it running, new viewers are sent to the playlist.
const fake = useFakeHms()
const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  HLS_VIEWER_THRESHOLD: '2',
}))

let counter = 0
const person = (name: string) =>
  signUp(stack.workers, {
    ip: `198.19.0.${++counter}`,
    profile: {
      username: `${name}${Date.now() % 1e7}${counter}`,
      displayName: name,
    },
  })

async function grant(user: TestClient, sessionId: string) {
  const response = await user.send(
    'POST',
    `/api/sessions/${sessionId}/token`,
    {},
  )
  expect(response.status).toBe(200)
  return (await response.json()) as {
    role: string
    useHls: boolean
    hlsUrl: string | null
  }
}

function event(type: string, data: Record<string, unknown>, at: string) {
  const sample = webhookSample(type)
  return JSON.stringify({
    ...sample,
    timestamp: at,
    data: { ...sample.data, ...data },
  })
}

describe('HLS for big audiences', () => {
  test('starts at the threshold, sends new viewers to the playlist, and older events never undo newer ones', async () => {
    const host = await person('Stage')
    const created = await host.send('POST', '/api/sessions', {
      title: 'Big audience',
      isPublic: true,
    })
    const { session } = (await created.json()) as { session: { id: string } }
    const [row] = await stack.database.query<{ hms_room_id: string }>(
      'SELECT hms_room_id FROM live_sessions WHERE id = $1',
      [session.id],
    )
    const roomId = row!.hms_room_id

    const first = await person('First')
    expect(await grant(first, session.id)).toMatchObject({ useHls: false })
    // Two viewers are in the room, as 100ms reports them.
    for (const peer of [1, 2])
      await stack.workers.deliverWebhook(
        event(
          'peer.join.success',
          {
            room_id: roomId,
            peer_id: `hls-peer-${peer}`,
            role: 'viewer',
            joined_at: '2026-12-01T10:00:00.5Z',
          },
          '2026-12-01T10:00:00Z',
        ),
      )
    const streamsBefore = fake.hms.liveStreams.size
    // The next join reaches the threshold: the stream starts (once), but is not running yet.
    const second = await person('Second')
    expect(await grant(second, session.id)).toMatchObject({ useHls: false })
    expect(await grant(second, session.id)).toMatchObject({ useHls: false })
    expect(fake.hms.liveStreams.size).toBe(streamsBefore + 1)

    const playlist = 'https://cdn.example/hls/master.m3u8'
    await stack.workers.deliverWebhook(
      event(
        'hls.started.success',
        { room_id: roomId, url: playlist },
        '2026-12-01T10:01:00Z',
      ),
    )
    const third = await person('Third')
    expect(await grant(third, session.id)).toEqual(
      expect.objectContaining({
        role: 'viewer',
        useHls: true,
        hlsUrl: playlist,
      }),
    )
    // The host always joins over WebRTC.
    expect(await grant(host, session.id)).toMatchObject({
      role: 'host',
      useHls: false,
    })

    // A stop that happened before the start (delivered late) changes nothing.
    await stack.workers.deliverWebhook(
      event('hls.stopped.success', { room_id: roomId }, '2026-12-01T09:59:00Z'),
    )
    expect(await grant(third, session.id)).toMatchObject({ useHls: true })

    // The host stops it: viewers are back on WebRTC, and a late start from before cannot revive it.
    const stopped = await host.send('POST', `/api/sessions/${session.id}/hls`, {
      action: 'stop',
    })
    expect(stopped.status).toBe(200)
    await stack.workers.deliverWebhook(
      event(
        'hls.started.success',
        { room_id: roomId, url: playlist },
        '2026-12-01T10:01:00Z',
      ),
    )
    const [state] = await stack.database.query<{ hls_status: string }>(
      'SELECT hls_status FROM live_sessions WHERE id = $1',
      [session.id],
    )
    expect(state!.hls_status).toBe('off')
  })

  test('only the host controls HLS', async () => {
    const host = await person('Owner')
    const other = await person('Other')
    const created = await host.send('POST', '/api/sessions', {
      title: 'Mine',
      isPublic: true,
    })
    const { session } = (await created.json()) as { session: { id: string } }
    const refused = await other.send(
      'POST',
      `/api/sessions/${session.id}/hls`,
      {
        action: 'start',
      },
    )
    expect(refused.status).toBe(403)
    const started = await host.send('POST', `/api/sessions/${session.id}/hls`, {
      action: 'start',
    })
    expect(started.status).toBe(200)
    expect(await started.json()).toEqual({ hlsStatus: 'starting' })
  })
})
