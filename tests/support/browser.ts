import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { startDevStack } from '../../scripts/lib/dev-stack.mjs'
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
}: {
  appPort: number
  webhooksPort: number
  /** The fake 100ms's port (each browser suite its own, so suites never share rooms). */
  hmsPort: number
  vars?: Record<string, string>
  /** False for a suite that starts Chromium its own way (the Lighthouse one). */
  launchBrowser?: boolean
}): DevStackAndBrowser {
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
      log: () => {},
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
    await state.browser?.close()
    await state.stack?.stop()
    await state.database?.close()
    if (state.persistTo)
      rmSync(state.persistTo, { recursive: true, force: true })
  })
  return {
    get stack() {
      if (!state.stack)
        throw new Error('the dev stack exists only once beforeAll ran')
      return state.stack
    },
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
