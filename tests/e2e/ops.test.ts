import type { Page } from 'playwright-core'
import { describe, expect, test } from 'vitest'
import { hasChromium, useDevStackAndBrowser } from '../support/browser'
import { relayQuery } from '../support/database'
import { devVar } from '../support/dev-vars'
import {
  hydrated,
  pagesFor,
  screenshot,
  uniquePhone,
  uniqueUsername,
  watchForProblems,
} from '../support/pages'
import { runNpmScript } from '../support/scripts'
import { webhookSample } from '../support/webhook-samples'
import { BREAK_APPLYING, FIX_APPLYING } from '../support/failing-webhooks'

// The operations page in Chromium, as an operator meets it: a 404 until `npm run ops:grant` makes
// them one; then a webhook event that failed is listed with its reason, and once the cause is
// fixed its Retry button applies it (as a plain HTML form without JavaScript, and with it).
const e2e = useDevStackAndBrowser({
  appPort: 8887,
  webhooksPort: 8888,
  hmsPort: 8889,
})
const { signUp } = pagesFor(e2e)

/** The dev stack's database (Postgres, or its embedded PGlite), through its relay's queue. */
const stackDatabase = () => {
  const { databaseUrl, wsProxy } = e2e.stack as unknown as {
    databaseUrl: string
    wsProxy: string
  }
  return { databaseUrl, wsProxy, query: relayQuery(databaseUrl, wsProxy) }
}

async function storedEvent(eventId: string) {
  const [row] = await stackDatabase().query<{
    applied_at: Date | null
    attempts: number
    failure_reason: string | null
  }>(
    'SELECT applied_at, attempts, failure_reason FROM webhook_events WHERE event_id = $1',
    [eventId],
  )
  if (!row) throw new Error(`event ${eventId} was not stored`)
  return row
}

const failedRow = (page: Page, eventId: string) =>
  page
    .getByRole('table', { name: 'Failed webhook events' })
    .getByRole('row')
    .filter({ hasText: eventId })

describe.skipIf(!hasChromium)('/ops in Chromium', () => {
  test('an operator sees a failed webhook event and applies it with Retry once the cause is fixed', async () => {
    const context = await e2e.browser.newContext()
    const username = uniqueUsername('ops')
    const page = await signUp(context, {
      phone: uniquePhone(),
      username,
      displayName: 'On call',
    })
    const problems = watchForProblems(page, { expected: [404] })
    const opsUrl = new URL('/ops', e2e.stack.appUrl).href

    // Not an operator yet: the page does not exist for them.
    const refused = await page.goto(opsUrl)
    expect(refused?.status()).toBe(404)
    await page.getByRole('heading', { name: 'Page not found' }).waitFor()

    const granted = await runNpmScript(stackDatabase(), 'ops:grant', [username])
    expect(granted.stdout).toContain(`@${username}`)
    expect(granted.code).toBe(0)

    // An event whose state change fails, delivered as 100ms would.
    const database = stackDatabase()
    await database.query(BREAK_APPLYING)
    const event = webhookSample('session.open.success')
    const delivered = await fetch(
      new URL('/webhooks/100ms', e2e.stack.webhooksUrl),
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'x-kulti-webhook-secret': devVar('HMS_WEBHOOK_SECRET'),
        },
        body: JSON.stringify(event),
      },
    )
    expect(await delivered.json()).toMatchObject({ applied: false })

    try {
      const opened = await page.goto(opsUrl)
      expect(opened?.status()).toBe(200)
      await hydrated(page)
      await page.getByRole('heading', { name: 'Operations' }).waitFor()
      await page.getByRole('heading', { name: 'Health: OK' }).waitFor()
      const row = failedRow(page, event.id)
      await expect(row.textContent()).resolves.toContain(
        'sessions table is being migrated',
      )
      await screenshot(page, 'ops-failed-event')

      // Retried without JavaScript (a plain form post) while the cause is still there.
      const plain = await e2e.browser.newContext({ javaScriptEnabled: false })
      await plain.addCookies(await context.cookies())
      const plainPage = await plain.newPage()
      await plainPage.goto(opsUrl)
      await failedRow(plainPage, event.id)
        .getByRole('button', { name: `Retry ${event.id}` })
        .click()
      await plainPage
        .getByText(`Event ${event.id} failed again: its reason is below.`)
        .waitFor()
      expect((await storedEvent(event.id)).attempts).toBe(2)
      await plain.close()
    } finally {
      await database.query(FIX_APPLYING)
    }

    // The cause is fixed: Retry applies it.
    await page.reload()
    await hydrated(page)
    await failedRow(page, event.id)
      .getByRole('button', { name: `Retry ${event.id}` })
      .click()
    await page.getByText(`Event ${event.id} was applied.`).waitFor()
    await expect(failedRow(page, event.id).count()).resolves.toBe(0)
    await screenshot(page, 'ops-retried')
    const applied = await storedEvent(event.id)
    expect(applied.applied_at).not.toBeNull()
    expect(applied.attempts).toBe(3)
    expect(applied.failure_reason).toBeNull()

    expect(problems).toEqual([])
    await context.close()
  }, 120_000)
})
