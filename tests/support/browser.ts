import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { startDevStack } from '../../scripts/lib/dev-stack.mjs'
import { loopbackSpkiHash } from '../fakes/tls.mjs'
import { createTestDatabase, type TestDatabase } from './database'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) {
  console.warn(
    `Browser tests SKIPPED: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`,
  )
}

// This machine has no network: without these flags Chromium keeps trying to reach Google's hosts.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // The fake 100ms serves recording files over https with a committed self-signed certificate
  // (tests/fakes/tls): trust that one key, not every certificate.
  `--ignore-certificate-errors-spki-list=${loopbackSpkiHash()}`,
]

export interface DevStackAndBrowser {
  readonly stack: {
    appUrl: string
    webhooksUrl: string
    hmsUrl: string
    /** The fake Sentry ingest both Workers report to (on a free port). */
    sentry: import('../fakes/sentry.mjs').FakeSentry
  }
  /** Only when Chromium is installed; tests that need it run under `describe.skipIf(!hasChromium)`. */
  readonly browser: Browser
  /** What both Workers logged so far (wrangler dev's output, one line each). */
  logs(): string[]
}

/** How the app logs a CSP violation a browser reported (app/routes/api.csp-report.ts). */
export const CSP_VIOLATION_LINE = /"msg":"CSP violation: ([^"]*)"/

/** The CSP violations browsers reported to the stack, as `<directive> blocked <what> on <page>`. */
export function cspViolations(lines: string[]): string[] {
  return lines.flatMap((line) => {
    const found = CSP_VIOLATION_LINE.exec(line)?.[1]
    return found ? [found] : []
  })
}

/**
 * Registers vitest hooks for a real `wrangler dev` of both Workers (as `npm run dev` starts them)
 * on its own ports, state folder and database, plus Chromium when it is installed.
 */
export function useDevStackAndBrowser({
  appPort,
  webhooksPort,
  hmsPort,
  vars = {},
  launchBrowser = true,
  allowedCspViolations = [],
}: {
  appPort: number
  webhooksPort: number
  /** The fake 100ms's port (each browser suite its own, so suites never share rooms). */
  hmsPort: number
  vars?: Record<string, string>
  /** False for a suite that starts Chromium its own way (the Lighthouse one). */
  launchBrowser?: boolean
  /**
   * Every CSP violation a browser reports during the suite fails it (in afterAll), except these:
   * a suite names each one it provokes on purpose or cannot avoid, as narrowly as it can.
   */
  allowedCspViolations?: RegExp[]
}): DevStackAndBrowser {
  const lines: string[] = []
  const state: {
    stack?: Awaited<ReturnType<typeof startDevStack>>
    browser?: Browser
    database?: TestDatabase
    persistTo?: string
  } = {}
  beforeAll(async () => {
    state.persistTo = mkdtempSync(path.join(tmpdir(), 'kulti-e2e-'))
    state.database = process.env.TEST_DATABASE_URL
      ? await createTestDatabase()
      : undefined
    state.stack = await startDevStack({
      databaseUrl: state.database?.databaseUrl,
      dataDir: null,
      appPort,
      webhooksPort,
      hmsPort,
      // Any free port: suites never read another's reports.
      sentryPort: 0,
      seed: false,
      persistTo: state.persistTo,
      log: (line: string) => lines.push(line),
      vars,
    })
    if (hasChromium && launchBrowser)
      state.browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
      })
    // Screenshots for people to look at; git ignores the folder.
    mkdirSync('test-results', { recursive: true })
  })
  afterAll(async () => {
    // Reports still on their way (report-uri: sent as the violation happens) arrive first.
    if (state.browser)
      await new Promise((resolve) => setTimeout(resolve, 1_500))
    const unexpected = cspViolations(lines).filter(
      (violation) =>
        !allowedCspViolations.some((allowed) => allowed.test(violation)),
    )
    await state.browser?.close()
    await state.stack?.stop()
    await state.database?.close()
    if (state.persistTo)
      rmSync(state.persistTo, { recursive: true, force: true })
    if (unexpected.length > 0)
      throw new Error(
        `Chromium reported CSP violations:\n${unexpected.join('\n')}`,
      )
  })
  return {
    get stack() {
      if (!state.stack)
        throw new Error('the dev stack exists only once beforeAll ran')
      return state.stack
    },
    logs: () => [...lines],
    get browser() {
      if (!state.browser)
        throw new Error(
          hasChromium
            ? 'Chromium starts in beforeAll'
            : `${CHROMIUM} is not installed`,
        )
      return state.browser
    },
  }
}
