// `npm run check:env [file]`: checks .dev.vars (or the given file) with the rules the Workers
// apply at their first request. The rules are app/utils/env.server.ts itself, bundled by esbuild
// and imported, so this check cannot drift from the app's.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from './lib/wrangler-env.mjs'

const ENV_MODULE = path.join(ROOT, 'app/utils/env.server.ts')
// Stand-ins for what `npm run dev` injects, so a .dev.vars is judged as the Workers will see it.
const PLACEHOLDER_DATABASE_URL =
  'postgresql://postgres@127.0.0.1:5432/placeholder'
const PLACEHOLDER_WSPROXY = '127.0.0.1:1'

/**
 * Parses a .dev.vars / .env file: KEY=VALUE lines, `#` comments, optional `export ` and quotes.
 * @param {string} text
 * @returns {{ vars: Record<string, string>, problems: string[], warnings: string[] }}
 */
export function parseVarsFile(text) {
  /** @type {Record<string, string>} */
  const vars = {}
  const problems = []
  const warnings = []
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(
      line,
    )
    if (!match) {
      problems.push(`line ${index + 1} is not KEY=VALUE: ${line.slice(0, 40)}`)
      return
    }
    const [, key, rest] = /** @type {[string, string, string]} */ (match)
    if (key in vars) warnings.push(`${key} is set twice; the later value wins`)
    vars[key] = unquote(rest)
  })
  return { vars, problems, warnings }
}

/** @param {string} value */
function unquote(value) {
  const quoted = /^(['"`])(.*)\1$/.exec(value)
  if (quoted) {
    const [, quote, inner] = /** @type {[string, string, string]} */ (quoted)
    return quote === '"' ? inner.replace(/\\n/g, '\n') : inner
  }
  // As in dotenv, an unquoted value ends at ` #`.
  return value.replace(/\s+#.*$/, '').trim()
}

/** esbuild ships with wrangler (and Remix); prefer the one the project resolves. */
async function loadEsbuild() {
  try {
    return await import('esbuild')
  } catch {
    const require = createRequire(
      path.join(ROOT, 'node_modules/wrangler/package.json'),
    )
    return require('esbuild')
  }
}

/**
 * The Workers' environment parsers (`parseAppEnv`, `parseWebhooksEnv`: every `parse…Env` export)
 * and `InvalidEnvironmentError`, compiled from the TypeScript source.
 */
export async function loadEnvRules() {
  const { build } = await loadEsbuild()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kulti-check-env-'))
  let module
  try {
    const outfile = path.join(dir, 'env.server.mjs')
    await build({
      entryPoints: [ENV_MODULE],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile,
      logLevel: 'error',
    })
    module = await import(pathToFileURL(outfile).href)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  /** @type {Array<{ worker: string, parse: (raw: Record<string, unknown>) => Record<string, unknown> }>} */
  const parsers = Object.entries(module).flatMap(([name, value]) => {
    const match = /^parse(\w*)Env$/.exec(name)
    if (!match || typeof value !== 'function') return []
    return [
      {
        worker: match[1] ? `${match[1].toLowerCase()} Worker` : 'Workers',
        parse: value,
      },
    ]
  })
  if (!parsers.length || typeof module.InvalidEnvironmentError !== 'function') {
    throw new Error(
      `${path.relative(ROOT, ENV_MODULE)} no longer exports parse…Env functions and InvalidEnvironmentError`,
    )
  }
  return { parsers, InvalidEnvironmentError: module.InvalidEnvironmentError }
}

/**
 * Checks a vars file against every Worker's rules: one .dev.vars feeds both Workers.
 * @param {string} file
 * @returns {Promise<{ problems: string[], warnings: string[], notes: string[] }>}
 */
export async function checkEnvFile(file) {
  const text = await readFile(file, 'utf8')
  const { vars, problems, warnings } = parseVarsFile(text)
  const notes = []
  const input = { ...vars }
  if (!input.DATABASE_URL) {
    input.DATABASE_URL = PLACEHOLDER_DATABASE_URL
    notes.push(
      'DATABASE_URL is not in the file (npm run dev injects it): checked with a placeholder',
    )
  }
  // A .dev.vars is for `wrangler dev` under the dev runner, which always adds the relay.
  if (path.basename(file).startsWith('.dev.vars') && !input.DB_WSPROXY) {
    input.DB_WSPROXY = PLACEHOLDER_WSPROXY
    notes.push(
      'DB_WSPROXY is injected by npm run dev: checked as if it were set',
    )
  }

  const { parsers, InvalidEnvironmentError } = await loadEnvRules()
  /** @type {Map<string, string[]>} problem → the Workers that report it */
  const found = new Map()
  const known = new Set()
  let allParsed = true
  for (const { worker, parse } of parsers) {
    try {
      for (const key of Object.keys(parse(input))) known.add(key)
    } catch (error) {
      if (!(error instanceof InvalidEnvironmentError)) throw error
      allParsed = false
      for (const problem of error.problems) {
        found.set(problem, [...(found.get(problem) ?? []), worker])
      }
    }
  }
  for (const [problem, workers] of found) {
    problems.push(
      parsers.length > 1 ? `${problem} (${workers.join(', ')})` : problem,
    )
  }
  // Parsers drop names they do not know; in a vars file that is most likely a typo. Only
  // decidable when every parser succeeded (a failed parse returns no names).
  if (allParsed) {
    for (const [key, value] of Object.entries(vars)) {
      if (value !== '' && !known.has(key)) {
        warnings.push(`${key} is not a variable the Workers read (a typo?)`)
      }
    }
  }
  return { problems, warnings, notes }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = path.resolve(process.argv[2] ?? path.join(ROOT, '.dev.vars'))
  const relative = path.relative(process.cwd(), file)
  const shown = relative && !relative.startsWith('..') ? relative : file
  let result
  try {
    result = await checkEnvFile(file)
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code
    console.error(
      code === 'ENOENT'
        ? `${shown} does not exist: copy .dev.vars.example to .dev.vars (npm run dev does it on first run)`
        : `could not check ${shown}: ${error instanceof Error ? error.message : error}`,
    )
    process.exit(1)
  }
  for (const note of result.notes) console.log(`note: ${note}`)
  for (const warning of result.warnings) console.log(`warning: ${warning}`)
  if (result.problems.length) {
    console.error(`${shown} has ${result.problems.length} problem(s):`)
    for (const problem of result.problems) console.error(`  - ${problem}`)
    process.exit(1)
  }
  console.log(`${shown}: environment OK`)
}
