// Builds what runs: the Remix app (build/ and public/build/), then both Workers bundled by wrangler
// exactly as `wrangler deploy` would upload them (dist/app, dist/webhooks). Tests run dist/.
import path from 'node:path'
import {
  REMIX_BIN,
  ROOT,
  WRANGLER_BIN,
  wranglerEnv,
} from './lib/wrangler-env.mjs'
import { run } from './lib/run.mjs'
import { versionDefine } from './lib/version.mjs'

export async function buildAll({ quiet = false } = {}) {
  await run(REMIX_BIN, ['build'], { quiet })
  const define = versionDefine()
  await run(
    WRANGLER_BIN,
    [
      'deploy',
      '--dry-run',
      '--outdir',
      path.join(ROOT, 'dist/app'),
      '--define',
      define,
    ],
    { env: wranglerEnv(), quiet },
  )
  await run(
    WRANGLER_BIN,
    [
      'deploy',
      '--dry-run',
      '-c',
      'workers/webhooks/wrangler.toml',
      '--outdir',
      path.join(ROOT, 'dist/webhooks'),
      '--define',
      define,
    ],
    { env: wranglerEnv(), quiet },
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAll()
}
