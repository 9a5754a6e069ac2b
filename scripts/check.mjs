// `npm run check`: types, formatting, and both Workers bundled as `wrangler deploy` would upload them,
// with their sizes. Fails if the webhooks Worker's bundle pulls in React, if either Worker (or the
// Remix server build) contains the 100ms SDK or hls.js, if either Worker outgrows its gzip budget,
// if a page's first-load JavaScript grows
// past its budget (the room page's video code counted with it), or if a production dependency has
// a high or critical advisory that audit-allowlist.json does not accept (scripts/audit.mjs).
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  BROWSER_ONLY,
  containsCode,
  KIB,
  measureFirstLoads,
  uploadSize,
} from './lib/bundle-sizes.mjs'
import { run } from './lib/run.mjs'
import { versionDefine } from './lib/version.mjs'
import {
  REMIX_BIN,
  ROOT,
  WRANGLER_BIN,
  wranglerEnv,
} from './lib/wrangler-env.mjs'

const bin = (name) => path.join(ROOT, 'node_modules/.bin', name)
const failures = []

// Each Worker as uploaded (wrangler's own gzip figure): what every cold start parses. The app
// Worker's target is 300 KiB (issue 14). The webhooks Worker's target is 100 KiB; today it is 133
// (@neondatabase/serverless 46, zod 27, drizzle 21, toucan-js with Sentry 20), so its budget holds
// it where it is until zod and toucan leave it (ADR 021).
const WORKER_BUDGETS = { 'app Worker': 300 * KIB, 'webhooks Worker': 135 * KIB }

async function step(name, fn) {
  console.log(`\n▶ ${name}`)
  try {
    await fn()
    console.log(`✔ ${name}`)
  } catch (error) {
    console.error(`✘ ${name}: ${error.message}`)
    failures.push(name)
  }
}

// The app Worker imports the Remix server build, so it must exist before type-checking and bundling.
await step('remix build', () => run(REMIX_BIN, ['build'], { quiet: true }))
await step('tsc --noEmit (strict)', () =>
  run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']),
)
await step('prettier --check', () =>
  run(bin('prettier'), ['--check', '.', '--log-level', 'warn']),
)
await step('npm audit: production dependencies, high and critical', () =>
  run(process.execPath, [path.join(ROOT, 'scripts/audit.mjs')]),
)
await step('Remix server build has no 100ms SDK or hls.js', () => {
  requireBrowserOnlyAbsent([path.join(ROOT, 'build/index.js')])
})
await step('first-load JavaScript per page (gzip)', () => {
  const { problems } = measureFirstLoads(path.join(ROOT, 'public'), {
    log: console.log,
  })
  if (problems.length) throw new Error(problems.join('; '))
})

const browserOnlyPackages = BROWSER_ONLY.flatMap((code) => code.packages)
const workers = [
  {
    name: 'app Worker',
    config: 'wrangler.toml',
    mustNotContain: browserOnlyPackages,
  },
  {
    name: 'webhooks Worker',
    config: 'workers/webhooks/wrangler.toml',
    mustNotContain: [
      'react',
      'react-dom',
      '@remix-run',
      ...browserOnlyPackages,
    ],
  },
]
const outdir = mkdtempSync(path.join(tmpdir(), 'kulti-check-'))
try {
  for (const worker of workers) {
    await step(`wrangler deploy --dry-run (${worker.name})`, async () => {
      const metafile = path.join(outdir, `${worker.name}.meta.json`)
      const output = await run(
        WRANGLER_BIN,
        [
          'deploy',
          '--dry-run',
          '-c',
          worker.config,
          '--outdir',
          path.join(outdir, worker.name),
          '--metafile',
          metafile,
          '--define',
          versionDefine(),
        ],
        { env: wranglerEnv(), quiet: true },
      )
      const size = uploadSize(output)
      const budget = WORKER_BUDGETS[worker.name]
      console.log(
        `  ${worker.name}: ${size.rawKiB} KiB raw, ${size.gzipKiB} KiB gzip (budget ${budget / KIB} KiB gzip)`,
      )
      if (size.gzipKiB * KIB > budget)
        throw new Error(
          `${worker.name} is ${size.gzipKiB} KiB gzip (budget ${budget / KIB} KiB)`,
        )
      const inputs = Object.values(
        JSON.parse(readFileSync(metafile, 'utf8')).outputs,
      ).flatMap((o) => Object.keys(o.inputs ?? {}))
      const packages = new Set(
        inputs
          .map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1])
          .filter(Boolean),
      )
      const forbidden = worker.mustNotContain.filter((name) =>
        packages.has(name),
      )
      if (forbidden.length)
        throw new Error(`bundle contains ${forbidden.join(', ')}`)
      // The metafile names packages; the output itself is searched too, in case code arrives
      // another way (copied, vendored, or re-exported under another name).
      requireBrowserOnlyAbsent(jsFiles(path.join(outdir, worker.name)))
      console.log(
        `  ${worker.name} contains none of: ${worker.mustNotContain.join(', ')}`,
      )
    })
  }
} finally {
  rmSync(outdir, { recursive: true, force: true })
}

/** Fails if any of `files` holds code of the 100ms SDK or hls.js. @param {string[]} files */
function requireBrowserOnlyAbsent(files) {
  if (files.length === 0) throw new Error('no bundle to search')
  const found = []
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    for (const code of BROWSER_ONLY) {
      if (containsCode(text, code))
        found.push(`${code.name} in ${path.relative(ROOT, file)}`)
    }
  }
  if (found.length) throw new Error(found.join('; '))
  console.log(
    `  ${files.length} file(s) searched: no ${BROWSER_ONLY.map((c) => c.name).join(', no ')}`,
  )
}

/** Every .js file under `dir`. @param {string} dir @returns {string[]} */
function jsFiles(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
}

if (failures.length) {
  console.error(`\ncheck failed: ${failures.join('; ')}`)
  process.exit(1)
}
console.log('\nAll checks passed.')
