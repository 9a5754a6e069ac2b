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
  // No Node polyfills in the browser: the one `process.env` read the 100ms SDK makes is met in the
  // room's own chunk (webrtc-room.client.tsx), so other pages do not carry a polyfill.
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    v3_singleFetch: true,
  },
}
