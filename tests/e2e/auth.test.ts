import type { BrowserContext, Page } from 'playwright-core'
import { describe, expect, test } from 'vitest'
import { hasChromium, useDevStackAndBrowser } from '../support/browser'

const SCREENSHOTS = 'test-results'

// Every request comes from 127.0.0.1, so the per-IP send limit (10 / hour) would be shared by all the
// sign-ins below; the per-phone limits stay as specified.
const e2e = useDevStackAndBrowser({
  appPort: 8807,
  webhooksPort: 8808,
  vars: {
    RATE_LIMIT_OVERRIDES: JSON.stringify({
      'otp-send-ip': { limit: 1000, periodSeconds: 3600 },
    }),
  },
})

/** A number nobody has used before: +1 555 and seven random digits. */
function uniquePhone(): string {
  return `+1555${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`
}

/** A username nobody has taken: usernames are unique across the whole database. */
function uniqueUsername(prefix: string): string {
  return `${prefix}_${Math.random().toString(36).slice(2, 9)}`
}

interface OutboxMessage {
  to: string
  body: string
  sentAt: string
}

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

/** Remix has hydrated the document: from here on, forms submit through fetch. */
async function hydrated(page: Page): Promise<void> {
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
async function settled(page: Page): Promise<void> {
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
function watchForProblems(
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
async function screenshot(page: Page, name: string): Promise<void> {
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

describe.skipIf(!hasChromium)('phone sign-in in Chromium', () => {
  test('a new number signs up, lands on the dashboard, signs out and signs back in', async () => {
    const context = await e2e.browser.newContext()
    const phone = uniquePhone()
    const username = uniqueUsername('ada')
    const page = await signUp(
      context,
      { phone, username, displayName: 'Ada Builder' },
      { shoot: true },
    )
    const problems = watchForProblems(page)

    await page
      .getByRole('heading', { name: 'Welcome back, Ada Builder' })
      .waitFor()
    await expect(
      page.getByText(`@${username}`).first().isVisible(),
    ).resolves.toBe(true)
    await expect(
      page.getByText('No one is live right now.').isVisible(),
    ).resolves.toBe(true)
    // The header names the signed-in person and links to their dashboard.
    const header = page.getByRole('banner')
    await expect(
      header.getByRole('link', { name: 'Ada Builder' }).isVisible(),
    ).resolves.toBe(true)
    await screenshot(page, 'dashboard')

    await hydrated(page)
    await header.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL((url) => url.pathname === '/')
    await header.getByRole('link', { name: 'Sign in' }).waitFor()
    // Signed out for real: the dashboard sends us to sign in, and back to it afterwards.
    await page.goto(new URL('/dashboard', e2e.stack.appUrl).href)
    expect(new URL(page.url()).pathname).toBe('/login')
    expect(new URL(page.url()).searchParams.get('redirectTo')).toBe(
      '/dashboard',
    )

    await signIn(page, phone)
    expect(new URL(page.url()).pathname).toBe('/dashboard')
    await page
      .getByRole('heading', { name: 'Welcome back, Ada Builder' })
      .waitFor()
    // A signed-in visit to /login goes straight back to the dashboard.
    await page.goto(new URL('/login', e2e.stack.appUrl).href)
    expect(new URL(page.url()).pathname).toBe('/dashboard')

    expect(problems).toEqual([])
    await context.close()
  }, 120_000)

  test('a wrong code shows an error on the page; the right one, pasted with a space, works', async () => {
    const context = await e2e.browser.newContext()
    const page = await context.newPage()
    // The bad number and the wrong code are answered 400, as on the JSON API.
    const problems = watchForProblems(page, { expected: [400] })
    const phone = uniquePhone()
    await page.goto(new URL('/login', e2e.stack.appUrl).href)
    await hydrated(page)

    // A number that is not a number gets a message on its field.
    await page.getByLabel('Phone number').fill('12345')
    await page.getByRole('button', { name: 'Text me a code' }).click()
    const phoneError = page.locator('#phone-error')
    await phoneError.waitFor()
    await settled(page)
    await expect(phoneError.textContent()).resolves.toContain(
      'international format',
    )
    await expect(
      page.getByLabel('Phone number').getAttribute('aria-invalid'),
    ).resolves.toBe('true')

    await page.getByLabel('Phone number').fill(phone)
    await page.getByRole('button', { name: 'Text me a code' }).click()
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor()
    await settled(page)
    // With JavaScript, resending waits for a visible countdown.
    const resend = page.getByRole('button', { name: /^Resend code in \d+ s$/ })
    await resend.waitFor()
    await expect(resend.isDisabled()).resolves.toBe(true)

    const code = await nextCode(phone, 0)
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0')
    const codeInput = page.getByLabel('6-digit code')
    await codeInput.fill(wrong)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    const codeError = page.locator('#code-error')
    await codeError.waitFor()
    await settled(page)
    await expect(codeError.textContent()).resolves.toContain(
      'That code is not right. 4 tries left.',
    )
    await expect(codeInput.getAttribute('aria-invalid')).resolves.toBe('true')
    await expect(codeInput.getAttribute('aria-describedby')).resolves.toBe(
      'code-error',
    )
    expect(new URL(page.url()).pathname).toBe('/login')
    await screenshot(page, 'login-wrong-code')

    // Pasting `123 456` keeps the six digits instead of letting maxLength cut the last one off.
    await codeInput.fill('')
    await codeInput.focus()
    await page.evaluate(
      (text) => {
        const data = new DataTransfer()
        data.setData('text/plain', text)
        document.activeElement!.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData: data, bubbles: true }),
        )
      },
      `${code.slice(0, 3)} ${code.slice(3)}`,
    )
    await expect(codeInput.inputValue()).resolves.toBe(code)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL((url) => url.pathname === '/welcome')

    expect(problems).toEqual([])
    await context.close()
  }, 120_000)

  test('works without JavaScript, from phone number to dashboard', async () => {
    const context = await e2e.browser.newContext({ javaScriptEnabled: false })
    const username = uniqueUsername('nojs')
    const page = await signUp(
      context,
      { phone: uniquePhone(), username, displayName: 'No Script' },
      { js: false },
    )
    await page
      .getByRole('heading', { name: 'Welcome back, No Script' })
      .waitFor()
    await context.close()
  }, 120_000)

  test('a fourth code for one number within 10 minutes says when to try again', async () => {
    // Without JavaScript there is no countdown, so the server's limit is what the person meets.
    const context = await e2e.browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    await page.goto(new URL('/login', e2e.stack.appUrl).href)
    await page.getByLabel('Phone number').fill(uniquePhone())
    await page.getByRole('button', { name: 'Text me a code' }).click()
    for (let sent = 1; sent < 3; sent++) {
      await page.getByRole('button', { name: 'Resend code' }).click()
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor()
    }
    await expect(page.locator('.form-error').count()).resolves.toBe(0)
    await page.getByRole('button', { name: 'Resend code' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    await expect(alert.textContent()).resolves.toMatch(
      /^Too many attempts\. Try again in \d+ (minute|second)s?\.$/,
    )
    // Still on the code step: the codes already sent keep working.
    await expect(page.getByLabel('6-digit code').isVisible()).resolves.toBe(
      true,
    )
    await context.close()
  })

  test("a second user sees only their own settings, and only the first user's public profile", async () => {
    const firstPhone = uniquePhone()
    const first = {
      phone: firstPhone,
      username: uniqueUsername('grace'),
      displayName: 'Grace First',
    }
    const second = {
      phone: uniquePhone(),
      username: uniqueUsername('linus'),
      displayName: 'Linus Second',
    }

    const firstContext = await e2e.browser.newContext()
    const firstPage = await signUp(firstContext, first)
    const firstProblems = watchForProblems(firstPage)
    // The first user writes a bio (with a live character count) and saves it.
    await firstPage.goto(new URL('/settings', e2e.stack.appUrl).href)
    await hydrated(firstPage)
    const bio = 'Building a tiny compiler in public.'
    await firstPage.getByLabel('Bio').fill(bio)
    await expect(firstPage.locator('#bio-count').textContent()).resolves.toBe(
      `${bio.length} / 280 characters`,
    )
    await firstPage.getByLabel('Avatar URL').fill('http://example.com/me.png')
    await firstPage.getByRole('button', { name: 'Save profile' }).click()
    // An http:// avatar is refused in the browser (pattern) before it reaches the server's own check.
    await expect(
      firstPage
        .getByLabel('Avatar URL')
        .evaluate((input: HTMLInputElement) => input.validity.valid),
    ).resolves.toBe(false)
    await firstPage.getByLabel('Avatar URL').fill('')
    await firstPage.getByRole('button', { name: 'Save profile' }).click()
    await firstPage.getByText('Your profile is saved.').waitFor()
    await screenshot(firstPage, 'settings')

    const secondContext = await e2e.browser.newContext()
    const secondPage = await signUp(secondContext, second)
    // The unknown profile is a 404 page; the wrong confirmation is answered 400.
    const secondProblems = watchForProblems(secondPage, {
      expected: [400, 404],
    })
    await secondPage.goto(new URL('/settings', e2e.stack.appUrl).href)
    await expect(
      secondPage.getByLabel('Display name').inputValue(),
    ).resolves.toBe(second.displayName)
    const settingsHtml = await secondPage.content()
    expect(settingsHtml).toContain(second.username)
    expect(settingsHtml).not.toContain(first.displayName)
    expect(settingsHtml).not.toContain(first.username)
    expect(settingsHtml).not.toContain(bio)

    // The first user's public profile: name, username, bio, member since; never the phone number.
    const profileResponse = await secondPage.goto(
      new URL(`/u/${first.username}`, e2e.stack.appUrl).href,
    )
    expect(profileResponse?.status()).toBe(200)
    await secondPage.getByRole('heading', { name: first.displayName }).waitFor()
    await expect(
      secondPage.getByText(`@${first.username}`).isVisible(),
    ).resolves.toBe(true)
    await expect(secondPage.getByText(bio).isVisible()).resolves.toBe(true)
    await expect(
      secondPage.getByText(/Member since/).isVisible(),
    ).resolves.toBe(true)
    await expect(secondPage.title()).resolves.toContain(first.displayName)
    const profileHtml = await secondPage.content()
    expect(profileHtml).not.toContain(firstPhone.slice(1))
    expect(profileHtml).not.toContain(firstPhone.slice(-7))
    await screenshot(secondPage, 'public-profile')

    const missing = await secondPage.goto(
      new URL('/u/nobody-at-all', e2e.stack.appUrl).href,
    )
    expect(missing?.status()).toBe(404)
    await secondPage.getByRole('heading', { name: 'Page not found' }).waitFor()
    await screenshot(secondPage, 'profile-not-found')

    // Deleting the account needs the exact username; a wrong one deletes nothing.
    await secondPage.goto(new URL('/settings', e2e.stack.appUrl).href)
    await hydrated(secondPage)
    await secondPage.getByLabel(/Type your username/).fill(first.username)
    await secondPage.getByRole('button', { name: 'Delete my account' }).click()
    await secondPage.locator('#confirm-error').waitFor()
    await settled(secondPage)
    await expect(
      secondPage.locator('#confirm-error').textContent(),
    ).resolves.toContain('exactly')
    expect(
      (await fetch(new URL(`/u/${second.username}`, e2e.stack.appUrl))).status,
    ).toBe(200)
    await secondPage.getByLabel(/Type your username/).fill(second.username)
    await secondPage.getByRole('button', { name: 'Delete my account' }).click()
    await secondPage.waitForURL((url) => url.pathname === '/')
    await secondPage.getByText('Your account has been deleted.').waitFor()
    expect(
      (await fetch(new URL(`/u/${second.username}`, e2e.stack.appUrl))).status,
    ).toBe(404)

    // "Sign out everywhere" ends the first user's session too.
    await firstPage.goto(new URL('/settings', e2e.stack.appUrl).href)
    await firstPage.getByRole('button', { name: 'Sign out everywhere' }).click()
    await firstPage.waitForURL((url) => url.pathname === '/login')
    await firstPage.goto(new URL('/settings', e2e.stack.appUrl).href)
    expect(new URL(firstPage.url()).pathname).toBe('/login')

    expect(firstProblems).toEqual([])
    expect(secondProblems).toEqual([])
    await firstContext.close()
    await secondContext.close()
  }, 180_000)

  test('an account that never chose a username deletes itself from /welcome', async () => {
    const context = await e2e.browser.newContext()
    const page = await context.newPage()
    const problems = watchForProblems(page, { expected: [400] })
    const phone = uniquePhone()
    await signIn(page, phone)
    expect(new URL(page.url()).pathname).toBe('/welcome')
    await hydrated(page)
    // The page names the account by its masked number only.
    const masked = `+1 ••• ••• ${phone.slice(-4)}`
    await page.getByText('Not you, or changed your mind?').click()
    await expect(page.getByText(masked).isVisible()).resolves.toBe(true)
    expect(await page.content()).not.toContain(phone.slice(2, 8))

    const confirm = page.getByLabel(/last 4 digits/)
    await confirm.fill(phone.slice(-4) === '0000' ? '1111' : '0000')
    await page.getByRole('button', { name: 'Delete this account' }).click()
    await page.locator('#confirm-error').waitFor()
    await settled(page)
    await expect(
      page.locator('#confirm-error').textContent(),
    ).resolves.toContain('last 4 digits')

    await confirm.fill(phone.slice(-4))
    await page.getByRole('button', { name: 'Delete this account' }).click()
    await page.waitForURL((url) => url.pathname === '/')
    await page.getByText('Your account has been deleted.').waitFor()
    await screenshot(page, 'welcome-deleted')
    await page.goto(new URL('/dashboard', e2e.stack.appUrl).href)
    expect(new URL(page.url()).pathname).toBe('/login')

    expect(problems).toEqual([])
    await context.close()
  }, 120_000)

  test('the development outbox page lists the texts, newest first', async () => {
    const page = await e2e.browser.newPage()
    const response = await page.goto(
      new URL('/dev/outbox', e2e.stack.appUrl).href,
    )
    expect(response?.status()).toBe(200)
    await page.getByRole('heading', { name: 'SMS outbox' }).waitFor()
    await expect(page.getByText(/Development only/).isVisible()).resolves.toBe(
      true,
    )
    await expect(
      page.locator('.outbox-message').count(),
    ).resolves.toBeGreaterThan(0)
    await screenshot(page, 'outbox')
    await page.close()
  })
})
