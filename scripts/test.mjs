// `npm test`: build the artefacts the integration and browser suites run, then every suite.
// Extra arguments go to vitest (`npm test -- --project unit`, `npm test -- tests/integration/webhooks.test.ts`).
import { buildAll } from './build.mjs'
import { run } from './lib/run.mjs'
import path from 'node:path'
import { ROOT } from './lib/wrangler-env.mjs'

console.log('Building the Workers (remix build + wrangler bundles)…')
await buildAll({ quiet: true })
console.log(
  process.env.TEST_DATABASE_URL
    ? 'Database: TEST_DATABASE_URL (one fresh database per test file)'
    : 'Database: embedded PGlite (one per test file); set TEST_DATABASE_URL to use a Postgres server',
)
try {
  await run(path.join(ROOT, 'node_modules/.bin/vitest'), [
    'run',
    ...process.argv.slice(2),
  ])
} catch {
  process.exit(1)
}
