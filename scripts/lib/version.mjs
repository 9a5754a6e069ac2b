import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from './wrangler-env.mjs'

/** `<package version>+<short commit>`, or just the package version outside a git checkout. */
export function buildVersion() {
  const { version } = JSON.parse(
    readFileSync(path.join(ROOT, 'package.json'), 'utf8'),
  )
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim()
    return commit ? `${version}+${commit}` : version
  } catch {
    return version
  }
}

/** The `--define` argument that stamps the version into a Worker bundle. */
export function versionDefine() {
  return `__BUILD_VERSION__:${JSON.stringify(buildVersion())}`
}
