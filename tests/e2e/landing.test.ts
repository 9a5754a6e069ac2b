import { describe, expect, test } from 'vitest'
import { hasChromium, useDevStackAndBrowser } from '../support/browser'
import { devVar } from '../support/dev-vars'
import { webhookSample } from '../support/webhook-samples'

// Real wrangler dev (both Workers, Static Assets, the dev registry) and, when present, real Chromium.
const e2e = useDevStackAndBrowser({
  appPort: 8797,
  webhooksPort: 8798,
  hmsPort: 8799,
})

describe.skipIf(!hasChromium)('the landing page in Chromium', () => {
  test('loads, hydrates without errors or CSP violations, and never leaves 127.0.0.1', async () => {
    const page = await e2e.browser.newPage()
    const requested: string[] = []
    const problems: string[] = []
    page.on('request', (request) => requested.push(request.url()))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))

    const response = await page.goto(e2e.stack.appUrl, {
      waitUntil: 'networkidle',
    })
    expect(response?.status()).toBe(200)
    await expect(page.title()).resolves.toContain('Kulti')
    await expect(
      page.getByRole('heading', { level: 1 }).textContent(),
    ).resolves.toBe('Build software in the open, live.')
    await expect(
      page.getByRole('link', { name: 'Sign in' }).isVisible(),
    ).resolves.toBe(true)

    // Remix creates its router only when the client bundle ran and hydrated the document.
    await page.waitForFunction(
      () => (window as any).__remixRouter?.state?.initialized === true,
      null,
      {
        timeout: 10_000,
      },
    )
    await page.screenshot({ path: 'test-results/landing.png', fullPage: true })
    // A client-side navigation (no document request) proves React is in charge of the page.
    const documentRequests = () =>
      requested.filter((url) => new URL(url).pathname === '/no-such-page')
        .length
    await page.evaluate(() =>
      (window as any).__remixRouter.navigate('/no-such-page'),
    )
    await page.getByRole('heading', { name: 'Page not found' }).waitFor()
    expect(documentRequests()).toBe(0)

    expect(problems.filter((p) => !/404/.test(p))).toEqual([])
    expect(requested.length).toBeGreaterThan(2)
    for (const url of requested)
      expect(new URL(url).hostname, url).toBe('127.0.0.1')
    await page.close()
  })

  test('is usable on a phone-sized screen', async () => {
    const page = await e2e.browser.newPage({
      viewport: { width: 375, height: 740 },
    })
    await page.goto(e2e.stack.appUrl)
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    )
    expect(overflow).toBeLessThanOrEqual(0)
    await page.close()
  })
})

describe('wrangler dev', () => {
  test('static files carry the security headers, and fingerprinted ones are cached forever', async () => {
    const favicon = await fetch(new URL('/favicon.svg', e2e.stack.appUrl))
    expect(favicon.status).toBe(200)
    expect(favicon.headers.get('x-frame-options')).toBe('DENY')
    expect(favicon.headers.get('x-content-type-options')).toBe('nosniff')
    expect(favicon.headers.get('strict-transport-security')).toContain(
      'max-age=63072000',
    )
    expect(favicon.headers.get('content-security-policy')).toContain(
      "frame-ancestors 'none'",
    )

    const html = await (await fetch(e2e.stack.appUrl)).text()
    const asset = /href="(\/build\/[^"]+\.css)"/.exec(html)?.[1]
    expect(asset).toBeTruthy()
    const css = await fetch(new URL(asset!, e2e.stack.appUrl))
    expect(css.status).toBe(200)
    expect(css.headers.get('cache-control')).toBe(
      'public, max-age=31536000, immutable',
    )
    expect(css.headers.get('x-content-type-options')).toBe('nosniff')

    // _headers configures the server; it is not itself a file anyone can download.
    expect((await fetch(new URL('/_headers', e2e.stack.appUrl))).status).toBe(
      404,
    )
  })

  test("the webhooks Worker stores events and reaches the app Worker's rate limiter", async () => {
    const url = new URL('/webhooks/100ms', e2e.stack.webhooksUrl)
    const secret = devVar('HMS_WEBHOOK_SECRET')
    const body = JSON.stringify(webhookSample('peer.join.success'))
    const ok = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-kulti-webhook-secret': secret,
      },
      body,
    })
    expect(ok.status).toBe(200)

    const statuses: number[] = []
    for (let i = 0; i < 21; i++) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-kulti-webhook-secret': 'guess',
        },
        body,
      })
      statuses.push(response.status)
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401))
    expect(statuses[20]).toBe(429)
  })
})
