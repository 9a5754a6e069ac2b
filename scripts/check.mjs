// `npm run check`: types, formatting, and both Workers bundled as `wrangler deploy` would upload them,
// with their sizes. Fails if the webhooks Worker's bundle pulls in React.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
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

const workers = [
  { name: 'app Worker', config: 'wrangler.toml', mustNotContain: [] },
  {
    name: 'webhooks Worker',
    config: 'workers/webhooks/wrangler.toml',
    mustNotContain: ['react', 'react-dom', '@remix-run'],
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
      const size = /Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+ KiB)/.exec(
        output,
      )
      if (!size) throw new Error('wrangler printed no bundle size')
      console.log(`  ${worker.name}: ${size[1]} raw, ${size[2]} gzip`)
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
      if (worker.mustNotContain.length)
        console.log(
          `  ${worker.name} contains none of: ${worker.mustNotContain.join(', ')}`,
        )
    })
  }
} finally {
  rmSync(outdir, { recursive: true, force: true })
}

if (failures.length) {
  console.error(`\ncheck failed: ${failures.join('; ')}`)
  process.exit(1)
}
console.log('\nAll checks passed.')
