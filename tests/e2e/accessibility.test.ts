import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import lighthouse, { type Result } from 'lighthouse'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  hasChromium,
  useDevStackAndBrowser,
} from '../support/browser'
import {
  hydrated,
  pagesFor,
  uniquePhone,
  uniqueUsername,
} from '../support/pages'

// The live-sessions acceptance point: Lighthouse's accessibility score is 100 on the dashboard and
// on the room in its no-video state (the video SDK cannot reach 100ms from here), and on the landing
// and sign-in pages too. Real Lighthouse drives the same Chromium the person signed in with: it
// opens its own tab in that browser's default context, so the session cookie comes along.
const e2e = useDevStackAndBrowser({
  appPort: 8827,
  webhooksPort: 8828,
  hmsPort: 8829,
  launchBrowser: false,
})
const { signUp } = pagesFor(e2e)
const url = (pathname: string) => new URL(pathname, e2e.stack.appUrl).href

const chrome: {
  userDataDir?: string
  context?: BrowserContext
  port?: number
} = {}

beforeAll(async () => {
  if (!hasChromium) return
  chrome.userDataDir = mkdtempSync(path.join(tmpdir(), 'kulti-lighthouse-'))
  // The default context of a persistent launch is the browser's own: Lighthouse's tab shares it.
  chrome.context = await chromium.launchPersistentContext(chrome.userDataDir, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--remote-debugging-port=0'],
  })
  chrome.port = await devToolsPort(chrome.userDataDir)
})

afterAll(async () => {
  await chrome.context?.close()
  if (chrome.userDataDir)
    rmSync(chrome.userDataDir, { recursive: true, force: true })
})

/** Chromium writes the port it picked for `--remote-debugging-port=0` into the profile. */
async function devToolsPort(userDataDir: string): Promise<number> {
  const file = path.join(userDataDir, 'DevToolsActivePort')
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const port = Number(readFileSync(file, 'utf8').split('\n')[0])
      if (port > 0) return port
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`Chromium did not write ${file} within 10 s`)
}

/** Lighthouse, accessibility only, on the page as the browser's signed-in person sees it. */
async function audit(pathname: string): Promise<Result> {
  const result = await lighthouse(url(pathname), {
    port: chrome.port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: ['accessibility'],
    // Keep the cookies (the signed-in person) and the page as it is.
    disableStorageReset: true,
    formFactor: 'desktop',
    screenEmulation: { disabled: true },
    emulatedUserAgent: false,
    // Nothing is throttled while the page loads under 'simulate' (it only models timings afterwards,
    // and no audit here uses them); 'provided' would stretch every quiet window to 5.25 s.
    throttlingMethod: 'simulate',
    disableFullPageScreenshot: true,
    // No audit in this category reaches the network; the page must settle well within this.
    maxWaitForLoad: 20_000,
  })
  if (!result) throw new Error(`Lighthouse returned nothing for ${pathname}`)
  return result.lhr
}

/** Every accessibility audit that did not pass, with the nodes it names, for a person to fix. */
function failures(lhr: Result): string[] {
  const category = lhr.categories.accessibility
  if (!category) return ['no accessibility category in the report']
  const lines: string[] = []
  if (lhr.runtimeError)
    lines.push(
      `runtime error: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`,
    )
  for (const ref of category.auditRefs) {
    const result = lhr.audits[ref.id]
    if (!result || result.score === null || result.score >= 1) continue
    lines.push(`✗ ${result.id} — ${result.title} (weight ${ref.weight})`)
    const details = result.details as
      | { items?: Array<{ node?: NodeDetails; subItems?: unknown }> }
      | undefined
    for (const item of details?.items ?? []) {
      const node = item.node
      if (!node) continue
      lines.push(`    ${node.snippet ?? ''}`)
      if (node.selector) lines.push(`      selector: ${node.selector}`)
      if (node.explanation)
        lines.push(`      ${node.explanation.replace(/\n\s*/g, '\n      ')}`)
    }
  }
  return lines
}

interface NodeDetails {
  snippet?: string
  selector?: string
  explanation?: string
}

/**
 * The text of the video region in the tab Lighthouse opens, as last seen before that tab closed:
 * Lighthouse closes its tab only after it has run its audits, so this is the state it audited.
 */
function watchVideoRegionOfNextTab(context: BrowserContext) {
  let last: string | null = null
  const closed = new Promise<void>((resolve) => {
    context.once('page', (page: Page) => {
      page.once('close', () => resolve())
      void (async () => {
        while (!page.isClosed()) {
          try {
            last = await page.evaluate(
              () => document.querySelector('.video-stage')?.textContent ?? null,
            )
          } catch {
            // Navigating or closing; the next look settles it.
          }
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      })()
    })
  })
  return { closed, lastText: () => last }
}

describe.skipIf(!hasChromium)('Lighthouse accessibility', () => {
  test('100 on /, /login, the dashboard with a live session, and the room without video', async () => {
    const context = chrome.context!
    const reports: Array<{
      page: string
      score: number | null
      problems: string[]
      seconds: number
    }> = []
    const check = async (page: string, pathname = page) => {
      const started = Date.now()
      const lhr = await audit(pathname)
      reports.push({
        page,
        score: lhr.categories.accessibility?.score ?? null,
        problems: failures(lhr),
        seconds: (Date.now() - started) / 1000,
      })
    }

    // Signed out first: /login sends a signed-in person on.
    await check('/')
    await check('/login')

    const page = await signUp(context, {
      phone: uniquePhone(),
      username: uniqueUsername('a11y'),
      displayName: 'Ada Access',
    })
    await hydrated(page)
    const title = `Accessible by default ${Math.random().toString(36).slice(2, 6)}`
    await page.getByText('Start a session').click()
    await page.getByLabel('Title').fill(title)
    await page.getByRole('button', { name: 'Go live' }).click()
    await page.waitForURL((u) => u.pathname.startsWith('/s/'))
    const roomPath = new URL(page.url()).pathname
    // The no-video state, as a person sees it: the SDK cannot reach 100ms from this machine.
    await page.getByText(/Video is not available/).waitFor({ timeout: 20_000 })
    await page.goto(url('/dashboard'))
    await page.getByRole('link', { name: title }).first().waitFor()
    await page.close()

    await check('/dashboard')

    const videoRegion = watchVideoRegionOfNextTab(context)
    await check('/s/<code>', roomPath)
    await videoRegion.closed
    expect(videoRegion.lastText(), 'the state Lighthouse audited').toMatch(
      /Video is not available/,
    )

    const summary = reports
      .map(
        ({ page, score, seconds }) =>
          `${page} ${score === null ? '–' : Math.round(score * 100)} (${seconds.toFixed(1)} s)`,
      )
      .join(', ')
    console.info(`Lighthouse accessibility: ${summary}`)
    for (const { page, score, problems } of reports)
      if (score !== 1 || problems.length > 0)
        console.error(
          `Lighthouse accessibility on ${page}: ${score === null ? 'no score' : Math.round(score * 100)}\n${problems.join('\n')}`,
        )
    expect(
      reports.map(({ page, score, problems }) => ({ page, score, problems })),
    ).toEqual(reports.map(({ page }) => ({ page, score: 1, problems: [] })))
  }, 90_000)
})
