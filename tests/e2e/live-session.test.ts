import type { Page } from 'playwright-core'
import { describe, expect, test } from 'vitest'
import { hasChromium, useDevStackAndBrowser } from '../support/browser'
import {
  hydrated,
  pagesFor,
  screenshot,
  uniquePhone,
  uniqueUsername,
  watchForProblems,
} from '../support/pages'

// A live session end to end in Chromium, against the fake 100ms `npm run dev` also runs. The
// fake stands in for 100ms's management API; the browser's video SDK cannot reach 100ms from
// here, so the page shows its "video is not available" state and everything else works.
const e2e = useDevStackAndBrowser({
  appPort: 8817,
  webhooksPort: 8818,
  hmsPort: 8819,
  vars: {
    RATE_LIMIT_OVERRIDES: JSON.stringify({
      'otp-send-ip': { limit: 1000, periodSeconds: 3600 },
    }),
  },
})
const { signUp } = pagesFor(e2e)

const url = (path: string) => new URL(path, e2e.stack.appUrl).href

// The video SDK cannot reach 100ms from this machine and says so in the console; nothing else may.
const isVideoOffline = (problem: string) =>
  /ERR_NAME_NOT_RESOLVED|HMSTransport|HMS-Store|\[HMSSdk\]/.test(problem)

async function goTo(page: Page, path: string) {
  await page.goto(url(path))
  await hydrated(page)
}

describe.skipIf(!hasChromium)('a live session in Chromium', () => {
  test('host creates, a viewer joins by the code, is promoted, and both see the end', async () => {
    const hostContext = await e2e.browser.newContext()
    const host = await signUp(hostContext, {
      phone: uniquePhone(),
      username: uniqueUsername('host'),
      displayName: 'Hana Host',
    })
    const hostProblems = watchForProblems(host)
    const title = `Pairing on a parser ${Math.random().toString(36).slice(2, 6)}`

    // Create from the dashboard.
    await hydrated(host)
    await host.getByText('Start a session').click()
    await host.getByLabel('Title').fill(title)
    await host.getByRole('button', { name: 'Go live' }).click()
    await host.waitForURL((u) => u.pathname.startsWith('/s/'))
    const roomPath = new URL(host.url()).pathname
    const roomCode = roomPath.split('/')[2]!
    expect(roomCode).toMatch(/^[A-Z]+-[A-Z2-9]{4}$/)
    await host.getByRole('heading', { name: title }).waitFor()
    await host.getByRole('heading', { name: 'Host controls' }).waitFor()
    await screenshot(host, 'room-host')

    // A second person opens the room by its code: a viewer, with no host controls.
    const viewerContext = await e2e.browser.newContext()
    const viewer = await signUp(viewerContext, {
      phone: uniquePhone(),
      username: uniqueUsername('view'),
      displayName: 'Vic Viewer',
    })
    const viewerProblems = watchForProblems(viewer)
    // Their dashboard lists it while it is live.
    await viewer.getByRole('link', { name: title }).waitFor()
    await goTo(viewer, `/s/${roomCode.toLowerCase()}`)
    expect(new URL(viewer.url()).pathname).toBe(roomPath)
    await viewer.getByText('You are in this session as Viewer').waitFor()
    expect(
      await viewer.getByRole('heading', { name: 'Host controls' }).count(),
    ).toBe(0)
    // Joining asked the server for a token (which made them a participant); the video itself
    // cannot connect from this machine, and the page says so.
    await viewer.getByText(/Video is not available/).waitFor()
    await screenshot(viewer, 'room-viewer')

    // The host sees them and promotes them.
    await goTo(host, roomPath)
    const promote = host.getByRole('button', {
      name: 'Make Vic Viewer a presenter',
    })
    await promote.click()
    await host
      .getByRole('button', { name: 'Make Vic Viewer a viewer' })
      .waitFor()

    // The viewer's page follows (it revalidates on its own; a reload is quicker here).
    await goTo(viewer, roomPath)
    await viewer.getByText('You are in this session as Presenter').waitFor()
    expect(
      await viewer.getByRole('heading', { name: 'Host controls' }).count(),
    ).toBe(0)

    // The host ends it; both see it ended, and the dashboard no longer lists it.
    await host.getByRole('button', { name: 'End session for everyone' }).click()
    await host.getByText('This session has ended.').first().waitFor()
    await goTo(viewer, roomPath)
    await viewer.getByText('This session has ended.').first().waitFor()
    await goTo(viewer, '/dashboard')
    expect(await viewer.getByRole('link', { name: title }).count()).toBe(0)
    expect(hostProblems.filter((p) => !isVideoOffline(p))).toEqual([])
    expect(viewerProblems.filter((p) => !isVideoOffline(p))).toEqual([])

    await hostContext.close()
    await viewerContext.close()
  }, 180_000)

  test('the create form works without JavaScript and says what to fix', async () => {
    const context = await e2e.browser.newContext({ javaScriptEnabled: false })
    const page = await signUp(
      context,
      {
        phone: uniquePhone(),
        username: uniqueUsername('nojs'),
        displayName: 'No Script',
      },
      { js: false },
    )
    await page.getByText('Start a session').click()
    await page.getByLabel('Title').fill('   ')
    // The browser's own `required` check would stop an empty title; spaces pass it, not us.
    await page.getByRole('button', { name: 'Go live' }).click()
    await page.locator('#title-error').waitFor()
    await page.getByLabel('Title').fill('No-JS session')
    await page.getByRole('button', { name: 'Go live' }).click()
    await page.waitForURL((u) => u.pathname.startsWith('/s/'))
    await page.getByRole('heading', { name: 'No-JS session' }).waitFor()
    await context.close()
  }, 120_000)
})
