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

// Every request comes from 127.0.0.1, so the per-IP send limit (10 / hour) would be shared by all the
// sign-ins below; the per-phone limits stay as specified.
const e2e = useDevStackAndBrowser({
  appPort: 8807,
  webhooksPort: 8808,
  hmsPort: 8809,
  vars: {
    RATE_LIMIT_OVERRIDES: JSON.stringify({
      'otp-send-ip': { limit: 1000, periodSeconds: 3600 },
    }),
  },
})

const { outboxFor, nextCode, signIn, signUp } = pagesFor(e2e)

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
    await secondPage
      .getByRole('heading', { name: first.displayName, exact: true })
      .waitFor()
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
