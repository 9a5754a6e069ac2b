// wrangler must never phone home: there is no network here, and a production build should not
// depend on one either (DESIGN.md, "Offline wrangler"). Every script that runs wrangler uses these.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
)

export function wranglerEnv(extra = {}) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    // Keep wrangler's registry and logs inside the project, not in the home folder.
    WRANGLER_REGISTRY_PATH: path.join(ROOT, '.wrangler', 'registry'),
    WRANGLER_LOG_PATH: path.join(ROOT, '.wrangler', 'logs'),
    ...extra,
  }
}

export const WRANGLER_BIN = path.join(ROOT, 'node_modules', '.bin', 'wrangler')
export const REMIX_BIN = path.join(ROOT, 'node_modules', '.bin', 'remix')
