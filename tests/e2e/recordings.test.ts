import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { afterAll, describe, expect, test } from 'vitest'
import type { FakeHms } from '../fakes/hms.mjs'
import { hasChromium, useDevStackAndBrowser } from '../support/browser'
import { devVar } from '../support/dev-vars'
import {
  hydrated,
  pagesFor,
  screenshot,
  settled,
  uniquePhone,
  uniqueUsername,
  watchForProblems,
} from '../support/pages'

// A recording end to end in Chromium: the host records from the room (the fake 100ms), everyone
// in the room sees that it runs, the fake's webhooks move it to processing and then completed on
// /recordings, it plays from a fresh presigned URL, a participant sees it without Delete, and the
// host deletes it.
const HMS_PORT = 8849

const e2e = useDevStackAndBrowser({
  appPort: 8847,
  webhooksPort: 8848,
  hmsPort: HMS_PORT,
  vars: {
    RATE_LIMIT_OVERRIDES: JSON.stringify({
      'otp-send-ip': { limit: 1000, periodSeconds: 3600 },
    }),
  },
})
const { signUp, signIn } = pagesFor(e2e)

const url = (path: string) => new URL(path, e2e.stack.appUrl).href

async function goTo(page: Page, path: string) {
  await page.goto(url(path))
  await hydrated(page)
}

/** The fake 100ms runs in this process (DevStack.hms); the suite's helper types only its URLs. */
const fakeHms = () => (e2e.stack as unknown as { hms: FakeHms }).hms

// The room's video SDK cannot reach 100ms from this machine and says so in the console (its own
// "[HMSSdk]" lines vary with how far it got before failing).
const isExpectedNoise = (problem: string) =>
  /ERR_NAME_NOT_RESOLVED|HMSTransport|HMS-Store|\[HMSSdk\]/.test(problem)

/**
 * Stands between the fake 100ms and the webhooks Worker, forwarding every delivery as it is,
 * except the event types it is told to hold: those get a 503 (100ms retries later) until
 * `release` delivers them. This keeps a recording in `processing` long enough to see it.
 */
async function startWebhookGate(target: string) {
  const held = new Set<string>()
  const waiting = new Map<string, { body: string; headers: Headers }>()
  const forward = (body: string, headers: Headers) =>
    fetch(target, { method: 'POST', headers, body })
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers))
      if (
        typeof value === 'string' &&
        !['host', 'content-length'].includes(name)
      )
        headers.set(name, value)
    const event = JSON.parse(body) as { id: string; type: string }
    if (held.has(event.type)) {
      waiting.set(event.id, { body, headers })
      res.writeHead(503).end()
      return
    }
    const answer = await forward(body, headers)
    res.writeHead(answer.status).end(await answer.text())
  })
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  )
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/100ms`,
    hold: (type: string) => held.add(type),
    /** How many deliveries of held types arrived. */
    waiting: () => waiting.size,
    /** Delivers what was held, once each, and lets later ones through. */
    async release() {
      held.clear()
      for (const { body, headers } of waiting.values()) {
        const answer = await forward(body, headers)
        expect(answer.status).toBe(200)
      }
      waiting.clear()
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** The room header's recording indicator (a live region, present while the session is live). */
const indicator = (page: Page) =>
  page
    .locator('.room-header')
    .getByRole('status')
    .filter({ hasText: 'Recording' })

describe.skipIf(!hasChromium)('recordings in Chromium', () => {
  let gate: Awaited<ReturnType<typeof startWebhookGate>> | undefined
  afterAll(async () => {
    await gate?.close()
  })

  test('the host records, everyone sees it, it processes, plays, a participant sees it without Delete, the host deletes it', async () => {
    const hostContext = await e2e.browser.newContext()
    const host = await signUp(hostContext, {
      phone: uniquePhone(),
      username: uniqueUsername('host'),
      displayName: 'Hana Host',
    })
    const hostProblems = watchForProblems(host)
    const title = `Recorded pairing ${Math.random().toString(36).slice(2, 6)}`

    // An empty list says how to record.
    await goTo(host, '/recordings')
    await host
      .getByText(/Start a recording from your session.s host controls/)
      .waitFor()

    await goTo(host, '/dashboard')
    await host.getByText('Start a session').click()
    await host.getByLabel('Title').fill(title)
    await host.getByRole('button', { name: 'Go live' }).click()
    await host.waitForURL((u) => u.pathname.startsWith('/s/'))
    const roomPath = new URL(host.url()).pathname
    await host.getByRole('heading', { name: 'Host controls' }).waitFor()
    await hydrated(host)

    // The room's webhooks pass through the gate, which can hold the recording's last event.
    const hms = fakeHms()
    const room = [...hms.rooms.values()].at(-1)!
    gate = await startWebhookGate(
      room.webhook?.url ?? `${e2e.stack.webhooksUrl}/webhooks/100ms`,
    )
    // The app gives each room its webhook and secret; without them the workspace's would apply.
    room.webhook = {
      url: gate.url,
      headers: room.webhook?.headers ?? {
        'x-kulti-webhook-secret': devVar('HMS_WEBHOOK_SECRET'),
      },
    }

    // A viewer takes part: opening the room asks for a token, which makes them a participant.
    const viewerContext = await e2e.browser.newContext()
    const viewerPhone = uniquePhone()
    const viewer = await signUp(viewerContext, {
      phone: viewerPhone,
      username: uniqueUsername('view'),
      displayName: 'Vic Viewer',
    })
    const viewerProblems = watchForProblems(viewer)
    await goTo(viewer, roomPath)
    await viewer.getByText('You are in this session as Viewer').waitFor()
    await viewer.getByText(/Video is not available/).waitFor()
    expect(await indicator(viewer).count()).toBe(0)
    // Only the host can record.
    expect(
      await viewer.getByRole('button', { name: 'Start recording' }).count(),
    ).toBe(0)

    // The host starts recording; the room says so to everyone in it.
    await host.getByRole('button', { name: 'Start recording' }).click()
    await indicator(host).waitFor()
    await host.getByRole('button', { name: 'Stop recording' }).waitFor()
    await settled(host)
    expect(hms.requests.some((r) => r.call === 'startRecording')).toBe(true)
    await screenshot(host, 'room-recording-host')
    // The viewer's room revalidates every 10 s; a reload is quicker here.
    await goTo(viewer, roomPath)
    await indicator(viewer).waitFor()
    expect(await indicator(viewer).textContent()).toContain('● Recording')
    // Without JavaScript too: the indicator is in the server-rendered header.
    const noJs = await e2e.browser.newContext({ javaScriptEnabled: false })
    const noJsViewer = await noJs.newPage()
    await signIn(noJsViewer, viewerPhone, { js: false })
    await noJsViewer.goto(url(roomPath))
    await indicator(noJsViewer).waitFor()

    // While it runs, /recordings says so.
    await goTo(host, '/recordings')
    const entry = host.getByRole('listitem').filter({ hasText: title })
    await entry.getByText('Recording now').waitFor()

    // Stop: 100ms sends beam.stopped.success (processing) now, beam.recording.success when the
    // file is ready; the gate holds the second one.
    gate.hold('beam.recording.success')
    await goTo(host, roomPath)
    await host.getByRole('button', { name: 'Stop recording' }).click()
    await host.getByRole('button', { name: 'Start recording' }).waitFor()
    await settled(host)
    expect(await indicator(host).count()).toBe(0)
    await waitFor('beam.recording.success at the gate', () =>
      gate!.waiting() > 0 ? true : undefined,
    )

    await goTo(host, '/recordings')
    await entry.getByText('Processing…').waitFor()
    expect(await entry.getByRole('button', { name: /^Play/ }).count()).toBe(0)
    await screenshot(host, 'recordings-processing')

    // The file is ready: the held event arrives, and the recording can be played.
    await gate.release()
    await goTo(host, '/recordings')
    const play = entry.getByRole('button', { name: `Play ${title}` })
    await play.waitFor()
    expect(await entry.getByText('Processing…').count()).toBe(0)
    await entry.getByText('1280×720').waitFor()
    await entry.getByText('MP4').waitFor()

    // Play asks Kulti for a fresh presigned URL, which goes to the <video>.
    const presignCalls = hms.requests.filter(
      (r) => r.call === 'getPresignedUrl',
    ).length
    const [answer] = await Promise.all([
      host.waitForResponse((response) =>
        /\/api\/recordings\/[^/]+$/.test(new URL(response.url()).pathname),
      ),
      play.click(),
    ])
    expect(answer.status()).toBe(200)
    const body = (await answer.json()) as {
      recording: { playbackUrl: string | null }
    }
    const playbackUrl = body.recording.playbackUrl
    expect(playbackUrl).toMatch(
      new RegExp(`^${hms.assetsUrl}/assets/[^?]+\\?expires=\\d+&signature=`),
    )
    const video = entry.locator('video')
    await waitFor('the video source', async () =>
      (await video.getAttribute('src')) === playbackUrl ? true : undefined,
    )
    // The page's CSP let the player fetch the file from 100ms's (https) storage.
    const assetPath = new URL(playbackUrl ?? '').pathname
    await waitFor('the browser to fetch the recording file', async () =>
      hms.assetDownloads.includes(assetPath) ? true : undefined,
    )
    expect(
      hms.requests.filter((r) => r.call === 'getPresignedUrl').length,
    ).toBeGreaterThan(presignCalls)
    expect(
      await entry.getByRole('link', { name: 'Download' }).getAttribute('href'),
    ).toBe(playbackUrl)
    expect(
      await entry
        .getByRole('button', { name: `Close player ${title}` })
        .count(),
    ).toBe(1)
    await screenshot(host, 'recordings-playing')

    // The participant sees it, playable, without Delete (with and without JavaScript).
    await goTo(viewer, '/recordings')
    const theirs = viewer.getByRole('listitem').filter({ hasText: title })
    await theirs.getByRole('button', { name: `Play ${title}` }).waitFor()
    await theirs.getByText('You took part as a viewer.').waitFor()
    expect(await theirs.getByText(/Delete/).count()).toBe(0)
    await noJsViewer.goto(url('/recordings'))
    await noJsViewer.getByLabel('Role').selectOption({ label: 'I attended' })
    await noJsViewer
      .getByLabel('Status')
      .selectOption({ label: 'Ready to play' })
    await noJsViewer.getByRole('button', { name: 'Apply' }).click()
    await noJsViewer.waitForURL(
      (u) =>
        u.searchParams.get('role') === 'participant' &&
        u.searchParams.get('status') === 'completed',
    )
    await noJsViewer.getByRole('heading', { name: title }).waitFor()
    expect(await noJsViewer.getByText(/Delete/).count()).toBe(0)
    // A filter that matches nothing says so.
    await noJsViewer.goto(url('/recordings?role=host'))
    await noJsViewer.getByText('No recordings match these filters').waitFor()

    // The host deletes it, after confirming.
    await goTo(host, '/recordings')
    await entry.getByText(`Delete ${title}`).click()
    await entry.getByText('This cannot be undone', { exact: false }).waitFor()
    await screenshot(host, 'recordings-delete-confirm')
    await entry
      .getByRole('button', { name: `Delete for good ${title}` })
      .click()
    await host.getByText('The recording was deleted.').waitFor()
    await settled(host)
    expect(await host.getByRole('heading', { name: title }).count()).toBe(0)
    await goTo(viewer, '/recordings')
    expect(await viewer.getByRole('heading', { name: title }).count()).toBe(0)

    expect(hostProblems.filter((p) => !isExpectedNoise(p))).toEqual([])
    expect(viewerProblems.filter((p) => !isExpectedNoise(p))).toEqual([])
    await noJs.close()
    await hostContext.close()
    await viewerContext.close()
  }, 240_000)
})
