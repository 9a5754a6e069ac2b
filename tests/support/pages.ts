import type { BrowserContext, Page } from 'playwright-core'
import { expect } from 'vitest'
import type { DevStackAndBrowser } from './browser'

// What the browser suites share: unique people, waiting for Remix, watching the console,
// screenshots, and signing up and in through the pages as a person would.

const SCREENSHOTS = 'test-results'

/** A number nobody has used before: +1 555 and seven random digits. */
export function uniquePhone(): string {
  return `+1555${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`
}

/** A username nobody has taken: usernames are unique across the whole database. */
export function uniqueUsername(prefix: string): string {
  return `${prefix}_${Math.random().toString(36).slice(2, 9)}`
}

export interface OutboxMessage {
  to: string
  body: string
  sentAt: string
}

/** Remix has hydrated the document: from here on, forms submit through fetch. */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(
    () => (window as any).__remixRouter?.state?.initialized === true,
    null,
    {
      timeout: 10_000,
    },
  )
}

/**
 * Remix has finished what the last submission started. Its result (a field error, the next step)
 * shows while Remix still reloads the loaders; submitting again before that reload is done aborts it,
 * and Remix logs a console error (AbortError: signal is aborted without reason). Wait for this first.
 */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const state = (window as any).__remixRouter?.state
      return (
        state?.navigation.state === 'idle' &&
        state.revalidation === 'idle' &&
        [...state.fetchers.values()].every(
          (fetcher: { state: string }) => fetcher.state === 'idle',
        )
      )
    },
    null,
    { timeout: 10_000 },
  )
}

/**
 * Collects what would show up in the browser's console as a problem (hydration errors included).
 * Chromium logs every 4xx answer to a fetch as an error; a test that provokes one on purpose (a
 * wrong code is a 400) names its status in `expected`, and any other status still counts.
 */
export function watchForProblems(
  page: Page,
  { expected = [] }: { expected?: number[] } = {},
): string[] {
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    const status = /responded with a status of (\d{3})/.exec(
      message.text(),
    )?.[1]
    if (status && expected.includes(Number(status))) return
    problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
  return problems
}

/** A full-page screenshot at desktop size and one at 375 px, which must not scroll sideways. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const desktop = page.viewportSize() ?? { width: 1280, height: 800 }
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true })
  await page.setViewportSize({ width: 375, height: 740 })
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth,
  )
  expect(overflow, `${name} scrolls sideways at 375 px`).toBeLessThanOrEqual(0)
  await page.screenshot({
    path: `${SCREENSHOTS}/${name}-375.png`,
    fullPage: true,
  })
  await page.setViewportSize(desktop)
}

/** The helpers that need the running stack: the outbox, and signing in and up through the pages. */
export function pagesFor(e2e: Pick<DevStackAndBrowser, 'stack'>) {
  async function outboxFor(phone: string): Promise<OutboxMessage[]> {
    const response = await fetch(new URL('/dev/outbox.json', e2e.stack.appUrl))
    expect(response.status).toBe(200)
    return ((await response.json()) as OutboxMessage[]).filter(
      (message) => message.to === phone,
    )
  }

  /** Waits for a text to `phone` beyond the `seen` ones already there, and reads its code. */
  async function nextCode(phone: string, seen: number): Promise<string> {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      const messages = await outboxFor(phone)
      if (messages.length > seen) {
        const code = /\b(\d{6})\b/.exec(messages[0]!.body)?.[1]
        if (!code) throw new Error(`no code in the text: ${messages[0]!.body}`)
        return code
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`no new text to ${phone} within 10 s`)
  }

  /** Phone → code on /login; returns with the browser wherever sign-in sent it. */
  async function signIn(
    page: Page,
    phone: string,
    { shoot = false, js = true } = {},
  ): Promise<void> {
    await page.goto(new URL('/login', e2e.stack.appUrl).href)
    if (js) await hydrated(page)
    const seen = (await outboxFor(phone)).length
    // Typed the way people type it: the server normalises to E.164.
    await page
      .getByLabel('Phone number')
      .fill(`${phone.slice(0, 2)} ${phone.slice(2, 5)} ${phone.slice(5)}`)
    if (shoot) await screenshot(page, 'login-phone')
    await page.getByRole('button', { name: 'Text me a code' }).click()
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor()
    if (js) await settled(page)
    if (shoot) await screenshot(page, 'login-code')
    await page.getByLabel('6-digit code').fill(await nextCode(phone, seen))
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL((url) => url.pathname !== '/login')
  }

  /** A brand-new account, through the pages: sign in, then pick a username and a display name. */
  async function signUp(
    context: BrowserContext,
    {
      phone,
      username,
      displayName,
    }: { phone: string; username: string; displayName: string },
    { shoot = false, js = true } = {},
  ): Promise<Page> {
    const page = await context.newPage()
    await signIn(page, phone, { shoot, js })
    expect(new URL(page.url()).pathname).toBe('/welcome')
    await page.getByLabel('Username').fill(username)
    await page.getByLabel('Display name').fill(displayName)
    if (shoot) await screenshot(page, 'welcome')
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL((url) => url.pathname === '/dashboard')
    return page
  }

  return { outboxFor, nextCode, signIn, signUp }
}
