import { defineConfig } from 'vitest/config'

// Three suites, one runner. `npm test` (scripts/test.mjs) builds the Workers first, because the
// integration and browser suites run the built artefacts, not the sources.
export default defineConfig({
  // Unit tests import Worker modules directly; wrangler sets this when it bundles them.
  define: { __BUILD_VERSION__: JSON.stringify('test') },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'app/**/*.test.ts',
            'workers/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One wrangler dev and one Chromium at a time on a 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
})
