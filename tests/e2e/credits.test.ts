import type { Page } from 'playwright-core'
import { describe, expect, test } from 'vitest'
import { hasChromium, useDevStackAndBrowser } from '../support/browser'
import {
  hydrated,
  pagesFor,
  screenshot,
  settled,
  uniquePhone,
  uniqueUsername,
  watchForProblems,
} from '../support/pages'

// Credits in Chromium, through the pages: a tip from the room, both people's /credits pages (the
// history, the balances, the chart's numbers), the host's public profile, and /credits and the
// profile's tip form without JavaScript.
const e2e = useDevStackAndBrowser({
  appPort: 8837,
  webhooksPort: 8838,
  hmsPort: 8839,
  vars: {
    RATE_LIMIT_OVERRIDES: JSON.stringify({
      'otp-send-ip': { limit: 1000, periodSeconds: 3600 },
    }),
  },
})
const { signUp } = pagesFor(e2e)

const url = (path: string) => new URL(path, e2e.stack.appUrl).href

async function goTo(page: Page, path: string) {
  await page.goto(url(path))
  await hydrated(page)
}

/** Today as the ledger's chart counts days: UTC. */
const today = () => new Date().toISOString().slice(0, 10)

/** The number shown under a label of a description list (Balance, Sessions hosted …). */
async function figure(page: Page, label: string): Promise<string> {
  return (
    (await page
      .locator('dt', { hasText: new RegExp(`^${label}$`) })
      .locator('xpath=following-sibling::dd[1]')
      .textContent()) ?? ''
  ).trim()
}

/** The history's rows of one type, as "amount|what" strings, newest first. */
async function historyRows(page: Page, type: string): Promise<string[]> {
  return page
    .locator(`.history-table tbody tr[data-type="${type}"]`)
    .evaluateAll((rows) =>
      rows.map((row) => {
        const cells = [...row.querySelectorAll('td')].map((cell) =>
          (cell.textContent ?? '').trim(),
        )
        return `${cells[2]}|${cells[1]}`
      }),
    )
}

/** The chart's numbers for one day, from its table: [earned, spent]. */
async function chartDay(page: Page, day: string): Promise<string[]> {
  const details = page.locator('details.credit-chart-data')
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open)))
    await page.getByText('Show the numbers').click()
  const row = page.getByRole('table', {
    name: 'Credits earned and spent per day, last 30 days',
  })
  const cells = row.locator(`tr[data-day="${day}"] td`)
  return cells.allTextContents()
}

// The room's video SDK cannot reach 100ms from this machine and says so in the console (the page
// shows "Video is not available"); that is the video's story, not this suite's.
const isVideoOffline = (problem: string) =>
  /ERR_NAME_NOT_RESOLVED|HMSTransport|HMS-Store/.test(problem)

describe.skipIf(!hasChromium)('credits in Chromium', () => {
  test('a viewer tips the host from the room: history, balances, chart and the host profile show it', async () => {
    const hostContext = await e2e.browser.newContext()
    const hostName = uniqueUsername('host')
    const host = await signUp(hostContext, {
      phone: uniquePhone(),
      username: hostName,
      displayName: 'Hana Host',
    })
    const hostProblems = watchForProblems(host)
    await hydrated(host)
    await host.getByText('Start a session').click()
    await host.getByLabel('Title').fill('Tipping the parser')
    await host.getByRole('button', { name: 'Go live' }).click()
    await host.waitForURL((u) => u.pathname.startsWith('/s/'))
    const roomPath = new URL(host.url()).pathname
    // The host tips no one from their own room.
    await host.getByRole('heading', { name: 'Host controls' }).waitFor()
    expect(await host.getByRole('heading', { name: /^Tip / }).count()).toBe(0)

    const viewerContext = await e2e.browser.newContext()
    const viewer = await signUp(viewerContext, {
      phone: uniquePhone(),
      username: uniqueUsername('view'),
      displayName: 'Vic Viewer',
    })
    // The profile's tip over the balance answers 402; nothing else may go wrong in the console.
    const viewerProblems = watchForProblems(viewer, { expected: [402] })

    // The tip, from the room.
    await goTo(viewer, roomPath)
    const tipCard = viewer.getByRole('region', { name: 'Tip Hana Host' })
    await tipCard.getByText('You have 100 credits.').waitFor()
    await tipCard.getByLabel('Amount (credits)').fill('25')
    await tipCard
      .getByLabel('Message (optional)')
      .fill('Thanks for the parser!')
    await tipCard.getByRole('button', { name: 'Send tip' }).click()
    await tipCard
      .getByRole('status')
      .filter({ hasText: 'You tipped Hana Host 25 credits. You have 75 left.' })
      .waitFor()
    await settled(viewer)
    await tipCard.getByText('You have 75 credits.').waitFor()
    expect(await tipCard.getByLabel('Amount (credits)').inputValue()).toBe('')
    await screenshot(viewer, 'room-tip')

    // A double submit (no JavaScript to stop the second click): two posts of one rendered form,
    // at once, carry the same key and pay once.
    const key = await tipCard
      .locator('input[name="idempotencyKey"]')
      .inputValue()
    const post = () =>
      viewer.request.post(url(roomPath), {
        form: { intent: 'tip', amount: '5', idempotencyKey: key },
        headers: { Origin: new URL(e2e.stack.appUrl).origin },
      })
    const answers = await Promise.all([post(), post()])
    expect(answers.map((answer) => answer.status())).toEqual([200, 200])
    for (const answer of answers)
      expect((await answer.text()).replaceAll('<!-- -->', '')).toContain(
        'You tipped Hana Host 5 credits. You have 70 left.',
      )

    // The viewer's credits page: the balance, the two tips sent, and today in the chart.
    await goTo(viewer, '/credits')
    await viewer.getByRole('heading', { name: 'Credits', level: 1 }).waitFor()
    expect(await figure(viewer, 'Balance')).toBe('70')
    expect(await figure(viewer, 'Earned')).toBe('100')
    expect(await figure(viewer, 'Spent')).toBe('30')
    expect(await historyRows(viewer, 'tip_sent')).toEqual([
      '−5|Tip sentTo Hana Host',
      '−25|Tip sentTo Hana Host “Thanks for the parser!”',
    ])
    expect(await historyRows(viewer, 'bonus_welcome')).toEqual([
      '+100|Welcome bonus',
    ])
    const chart = viewer.getByRole('img', {
      name: 'Credits earned and spent per day, last 30 days',
    })
    await chart.waitFor()
    expect(
      await chart
        .getAttribute('aria-describedby')
        .then((id) => viewer.locator(`[id="${id}"]`).textContent()),
    ).toContain('you earned 100 credits and spent 30')
    expect(
      await chart.locator(`g[data-day="${today()}"] > title`).textContent(),
    ).toMatch(/: earned 100, spent 30$/)
    expect(await chartDay(viewer, today())).toEqual(['100', '30'])
    await screenshot(viewer, 'credits')
    // The filter, with JavaScript: only the tips sent.
    await viewer.getByLabel('Show').selectOption({ label: 'Tip sent' })
    await viewer.getByRole('button', { name: 'Filter' }).click()
    await viewer.waitForURL((u) => u.searchParams.get('type') === 'tip_sent')
    await settled(viewer)
    expect(await viewer.locator('.history-table tbody tr').count()).toBe(2)

    // The host's: the same tips, received, and the balance they made.
    await goTo(host, '/credits')
    expect(await figure(host, 'Balance')).toBe('130')
    expect(await historyRows(host, 'tip_received')).toEqual([
      '+5|Tip receivedFrom Vic Viewer',
      '+25|Tip receivedFrom Vic Viewer “Thanks for the parser!”',
    ])
    expect(await chartDay(host, today())).toEqual(['130', '0'])
    // The leaderboard counts what was received: the host leads this new database's week.
    const week = host.getByRole('list', { name: 'Last 7 days' })
    expect(await week.getByRole('listitem').first().textContent()).toContain(
      'Hana Host',
    )

    // The host's public profile, from the viewer's side: the live session counts as hosted.
    await goTo(viewer, `/u/${hostName}`)
    await viewer.getByRole('heading', { name: 'Hana Host', level: 1 }).waitFor()
    expect(await figure(viewer, 'Sessions hosted')).toBe('1')
    expect(await figure(viewer, 'Hours streamed')).toBe('0')
    // A tip over the balance is refused plainly and changes nothing.
    const profileTip = viewer.getByRole('region', { name: 'Tip Hana Host' })
    await profileTip.getByLabel('Amount (credits)').fill('5000')
    await profileTip.getByRole('button', { name: 'Send tip' }).click()
    await profileTip.locator('#amount-error').waitFor()
    expect(await profileTip.locator('#amount-error').textContent()).toMatch(
      /you have 70/i,
    )
    await settled(viewer)
    await profileTip.getByLabel('Amount (credits)').fill('10')
    await profileTip.getByRole('button', { name: 'Send tip' }).click()
    await profileTip
      .getByRole('status')
      .filter({ hasText: 'You tipped Hana Host 10 credits. You have 60 left.' })
      .waitFor()
    await settled(viewer)
    await screenshot(viewer, 'profile-tip')

    // The header leads to /credits.
    await viewer
      .getByRole('banner')
      .getByRole('link', { name: 'Credits', exact: true })
      .click()
    await viewer.waitForURL((u) => u.pathname === '/credits')
    expect(await figure(viewer, 'Balance')).toBe('60')

    // Their own profile offers no tip.
    await goTo(host, `/u/${hostName}`)
    expect(await host.getByRole('heading', { name: /^Tip / }).count()).toBe(0)

    // An ended session still counts as hosted.
    await goTo(host, roomPath)
    await host.getByRole('button', { name: 'End session for everyone' }).click()
    await host.getByText('This session has ended.').first().waitFor()
    await goTo(viewer, `/u/${hostName}`)
    expect(await figure(viewer, 'Sessions hosted')).toBe('1')

    expect(viewerProblems.filter((p) => !isVideoOffline(p))).toEqual([])
    expect(hostProblems.filter((p) => !isVideoOffline(p))).toEqual([])
    await hostContext.close()
    await viewerContext.close()
  }, 180_000)

  test('/credits and the profile tip form work without JavaScript', async () => {
    const recipientContext = await e2e.browser.newContext()
    const recipientName = uniqueUsername('rita')
    await signUp(recipientContext, {
      phone: uniquePhone(),
      username: recipientName,
      displayName: 'Rita Recipient',
    })
    await recipientContext.close()

    const context = await e2e.browser.newContext({ javaScriptEnabled: false })
    const page = await signUp(
      context,
      {
        phone: uniquePhone(),
        username: uniqueUsername('nojs'),
        displayName: 'Nora NoScript',
      },
      { js: false },
    )

    // A tip from a profile, as a plain form post.
    await page.goto(url(`/u/${recipientName}`))
    const tipCard = page.getByRole('region', { name: 'Tip Rita Recipient' })
    await tipCard.getByLabel('Amount (credits)').fill('15')
    await tipCard.getByLabel('Message (optional)').fill('No script needed')
    await tipCard.getByRole('button', { name: 'Send tip' }).click()
    await page
      .getByText('You tipped Rita Recipient 15 credits. You have 85 left.')
      .waitFor()

    // /credits renders whole on the server; the filter is a GET form.
    await page.goto(url('/credits'))
    expect(await figure(page, 'Balance')).toBe('85')
    await page.getByRole('img', { name: /^Credits earned and spent/ }).waitFor()
    await page.getByLabel('Show').selectOption({ label: 'Tip sent' })
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.waitForURL((u) => u.searchParams.get('type') === 'tip_sent')
    expect(await historyRows(page, 'tip_sent')).toEqual([
      '−15|Tip sentTo Rita Recipient “No script needed”',
    ])
    expect(await page.locator('.history-table tbody tr').count()).toBe(1)
    expect(await page.getByLabel('Show').inputValue()).toBe('tip_sent')

    // Pages of one row: "Older" continues below, then there is nothing older.
    await page.goto(url('/credits?limit=1'))
    expect(await page.locator('.history-table tbody tr').count()).toBe(1)
    expect(await historyRows(page, 'tip_sent')).toHaveLength(1)
    await page.getByRole('link', { name: 'Older' }).click()
    await page.waitForURL((u) => u.searchParams.has('cursor'))
    expect(await historyRows(page, 'bonus_welcome')).toEqual([
      '+100|Welcome bonus',
    ])
    expect(await page.getByRole('link', { name: 'Older' }).count()).toBe(0)
    await page.getByRole('link', { name: 'Newest' }).click()
    await page.waitForURL((u) => !u.searchParams.has('cursor'))
    expect(await historyRows(page, 'tip_sent')).toHaveLength(1)

    // A filter the page does not know is a 400 that says so, not an error page of ours.
    const wrong = await page.goto(url('/credits?type=bogus'))
    expect(wrong?.status()).toBe(400)
    await page.getByText('That history filter is not one we know').waitFor()

    await context.close()
  }, 180_000)
})
