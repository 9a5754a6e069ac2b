import { describe, expect, test } from 'vitest'
import { hasChromium, useDevStackAndBrowser } from '../support/browser'

// Both Workers under wrangler dev report to the dev stack's fake Sentry; Chromium runs the pages'
// reporter for real (lazily loaded, sendBeacon to POST /api/monitoring/client).
const e2e = useDevStackAndBrowser({
  appPort: 8867,
  webhooksPort: 8868,
  hmsPort: 8869,
})

type Payload = Record<string, any>
const browserEvents = () =>
  e2e.stack.sentry
    .items()
    .filter((item) => item.header.type === 'event')
    .map((item) => item.payload as Payload)
    .filter((event) => event.tags?.source === 'browser')

async function eventually<T>(find: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const found = find()
    if (found !== undefined || Date.now() > deadline) return found as T
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.skipIf(!hasChromium)('the browser reporter in Chromium', () => {
  test('an uncaught error, an unhandled rejection and Web Vitals reach the fake Sentry', async () => {
    const page = await e2e.browser.newPage()
    const response = await page.goto(`${e2e.stack.appUrl}/login`, {
      waitUntil: 'networkidle',
    })
    expect(response?.status()).toBe(200)
    expect(response?.headers()['server-timing']).toMatch(/total;dur=/)
    // Thrown by the page's own code, outside any handler, as a bug would be.
    await page.evaluate(() => {
      setTimeout(() => {
        throw new TypeError('kaboom from the login page')
      })
      void Promise.reject(new Error('a promise nobody handled'))
    })

    const error = await eventually(() =>
      browserEvents().find((e) =>
        e.exception?.values?.[0]?.value?.includes('kaboom'),
      ),
    )
    expect(error).toMatchObject({
      level: 'error',
      tags: { page: '/login', 'browser.event': 'error' },
      exception: { values: [{ type: 'TypeError' }] },
    })
    expect(error.release).toMatch(/^\d+\.\d+\.\d+/)
    const rejection = await eventually(() =>
      browserEvents().find(
        (e) => e.tags?.['browser.event'] === 'unhandledrejection',
      ),
    )
    expect(rejection.exception.values[0].value).toBe('a promise nobody handled')

    // TTFB and FCP are final as soon as the page has painted; the rest when it is hidden.
    const vitals = await eventually(() =>
      browserEvents().find((e) => e.tags?.['vital.TTFB']),
    )
    expect(vitals.message).toBe('browser metrics')
    expect(vitals.tags['vital.TTFB']).toMatch(/good|needs-improvement|poor/)
    await page.close()
  })
})
