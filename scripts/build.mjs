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

/**
 * @returns {Promise<Array<{ config: string, outdir: string, output: string }>>} what wrangler printed
 *   for each Worker (with `quiet`; its bundle size, for scripts/lib/bundle-sizes.mjs uploadSize)
 */
export async function buildAll({ quiet = false } = {}) {
  await run(REMIX_BIN, ['build'], { quiet })
  const define = versionDefine()
  const built = []
  for (const { config, outdir } of [
    { config: 'wrangler.toml', outdir: 'dist/app' },
    { config: 'workers/webhooks/wrangler.toml', outdir: 'dist/webhooks' },
  ]) {
    const output = await run(
      WRANGLER_BIN,
      [
        'deploy',
        '--dry-run',
        '-c',
        config,
        '--outdir',
        path.join(ROOT, outdir),
        '--define',
        define,
      ],
      { env: wranglerEnv(), quiet },
    )
    built.push({ config, outdir, output })
  }
  return built
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAll()
}
