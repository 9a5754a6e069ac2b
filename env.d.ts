/// <reference types="@remix-run/cloudflare" />
/// <reference types="@cloudflare/workers-types/2023-07-01" />

/** Set at bundle time by wrangler (`define` in wrangler.toml, overridden by scripts/build.mjs). */
declare const __BUILD_VERSION__: string

declare module 'virtual:remix/server-build' {
  import type { ServerBuild } from '@remix-run/cloudflare'
  export const assets: ServerBuild['assets']
  export const assetsBuildDirectory: ServerBuild['assetsBuildDirectory']
  export const basename: ServerBuild['basename']
  export const entry: ServerBuild['entry']
  export const future: ServerBuild['future']
  export const isSpaMode: ServerBuild['isSpaMode']
  export const mode: ServerBuild['mode']
  export const publicPath: ServerBuild['publicPath']
  export const routes: ServerBuild['routes']
}

/** The Remix classic compiler turns a CSS import into the file's public URL. */
declare module '*.css' {
  const href: string
  export default href
}
