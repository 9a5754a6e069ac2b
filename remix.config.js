/** @type {import('@remix-run/dev').AppConfig} */
export default {
  ignoredRouteFiles: ['**/.*', '**/*.test.{ts,tsx}'],
  // The server build is a plain ESM module imported by workers/app.ts; wrangler bundles it (and
  // every dependency) once, so Remix must not bundle dependencies itself.
  server: undefined,
  serverBuildPath: 'build/index.js',
  serverConditions: ['workerd', 'worker', 'browser'],
  serverDependenciesToBundle: [],
  serverMainFields: ['browser', 'module', 'main'],
  serverMinify: true,
  serverModuleFormat: 'esm',
  serverPlatform: 'neutral',
  // The 100ms SDK reads process.env in the browser.
  browserNodeBuiltinsPolyfill: {
    modules: { process: true },
    globals: { process: true },
  },
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    v3_singleFetch: true,
  },
}
