// `npm run check`: types, formatting, and both Workers bundled as `wrangler deploy` would upload them,
// with their sizes. Fails if the webhooks Worker's bundle pulls in React, if either Worker (or the
// Remix server build) contains the 100ms SDK or hls.js, if either Worker outgrows its gzip budget,
// if a page's first-load JavaScript grows
// past its budget (the room page's video code counted with it), or if a production dependency has
// a high or critical advisory that audit-allowlist.json does not accept (scripts/audit.mjs).
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { run } from './lib/run.mjs'
import { versionDefine } from './lib/version.mjs'
import {
  REMIX_BIN,
  ROOT,
  WRANGLER_BIN,
  wranglerEnv,
} from './lib/wrangler-env.mjs'

const bin = (name) => path.join(ROOT, 'node_modules/.bin', name)
const failures = []

// Browser-only video code (DESIGN.md, "Known traps"): strings that survive minification and
// appear nowhere else. The package names catch an import left external (the Remix server build).
const BROWSER_ONLY = [
  {
    name: '100ms SDK',
    packages: ['@100mslive/react-sdk', '@100mslive/hms-video-store'],
    markers: ['prod-init.100ms.live', 'HMSui-components', '@100mslive/'],
  },
  {
    name: 'hls.js',
    packages: ['hls.js'],
    markers: ['manifestLoadError', 'fragLoadError', 'bufferAppendError'],
    specifier: /["']hls\.js(?:\/[^"']*)?["']/,
  },
]
const ROOM_ROUTE = 'routes/s.$roomCode'
const KIB = 1024
// First-load JavaScript, gzip: every page but the room, and the room with its lazily loaded video.
const PAGE_BUDGET = 90 * KIB
const ROOM_WITH_VIDEO_BUDGET = 250 * KIB
// Pages with their own budget (first load, lazily loaded players not counted). /recordings plays
// recordings with hls.js too, lazily, on Play (the earlier build shipped 502 KB here).
const PAGE_BUDGETS = { '/recordings': 100 * KIB }
const PLAYER_ROUTES = new Set(['routes/recordings'])
// Each Worker as uploaded (wrangler's own gzip figure): what every cold start parses. The app
// Worker's target is 300 KiB (issue 14). The webhooks Worker's target is 100 KiB; today it is 133
// (@neondatabase/serverless 46, zod 27, drizzle 21, toucan-js with Sentry 20), so its budget holds
// it where it is until zod and toucan leave it (ADR 021).
const WORKER_BUDGETS = { 'app Worker': 300 * KIB, 'webhooks Worker': 135 * KIB }

async function step(name, fn) {
  console.log(`\n▶ ${name}`)
  try {
    await fn()
    console.log(`✔ ${name}`)
  } catch (error) {
    console.error(`✘ ${name}: ${error.message}`)
    failures.push(name)
  }
}

// The app Worker imports the Remix server build, so it must exist before type-checking and bundling.
await step('remix build', () => run(REMIX_BIN, ['build'], { quiet: true }))
await step('tsc --noEmit (strict)', () =>
  run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']),
)
await step('prettier --check', () =>
  run(bin('prettier'), ['--check', '.', '--log-level', 'warn']),
)
await step('npm audit: production dependencies, high and critical', () =>
  run(process.execPath, [path.join(ROOT, 'scripts/audit.mjs')]),
)
await step('Remix server build has no 100ms SDK or hls.js', () => {
  requireBrowserOnlyAbsent([path.join(ROOT, 'build/index.js')])
})
await step('first-load JavaScript per page (gzip)', () =>
  checkFirstLoads(path.join(ROOT, 'public')),
)

const browserOnlyPackages = BROWSER_ONLY.flatMap((code) => code.packages)
const workers = [
  {
    name: 'app Worker',
    config: 'wrangler.toml',
    mustNotContain: browserOnlyPackages,
  },
  {
    name: 'webhooks Worker',
    config: 'workers/webhooks/wrangler.toml',
    mustNotContain: [
      'react',
      'react-dom',
      '@remix-run',
      ...browserOnlyPackages,
    ],
  },
]
const outdir = mkdtempSync(path.join(tmpdir(), 'kulti-check-'))
try {
  for (const worker of workers) {
    await step(`wrangler deploy --dry-run (${worker.name})`, async () => {
      const metafile = path.join(outdir, `${worker.name}.meta.json`)
      const output = await run(
        WRANGLER_BIN,
        [
          'deploy',
          '--dry-run',
          '-c',
          worker.config,
          '--outdir',
          path.join(outdir, worker.name),
          '--metafile',
          metafile,
          '--define',
          versionDefine(),
        ],
        { env: wranglerEnv(), quiet: true },
      )
      const size = /Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+ KiB)/.exec(
        output,
      )
      if (!size) throw new Error('wrangler printed no bundle size')
      const budget = WORKER_BUDGETS[worker.name]
      console.log(
        `  ${worker.name}: ${size[1]} raw, ${size[2]} gzip (budget ${budget / KIB} KiB gzip)`,
      )
      if (Number.parseFloat(size[2]) * KIB > budget)
        throw new Error(
          `${worker.name} is ${size[2]} gzip (budget ${budget / KIB} KiB)`,
        )
      const inputs = Object.values(
        JSON.parse(readFileSync(metafile, 'utf8')).outputs,
      ).flatMap((o) => Object.keys(o.inputs ?? {}))
      const packages = new Set(
        inputs
          .map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1])
          .filter(Boolean),
      )
      const forbidden = worker.mustNotContain.filter((name) =>
        packages.has(name),
      )
      if (forbidden.length)
        throw new Error(`bundle contains ${forbidden.join(', ')}`)
      // The metafile names packages; the output itself is searched too, in case code arrives
      // another way (copied, vendored, or re-exported under another name).
      requireBrowserOnlyAbsent(jsFiles(path.join(outdir, worker.name)))
      console.log(
        `  ${worker.name} contains none of: ${worker.mustNotContain.join(', ')}`,
      )
    })
  }
} finally {
  rmSync(outdir, { recursive: true, force: true })
}

/** Fails if any of `files` holds code of the 100ms SDK or hls.js. @param {string[]} files */
function requireBrowserOnlyAbsent(files) {
  if (files.length === 0) throw new Error('no bundle to search')
  const found = []
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    for (const code of BROWSER_ONLY) {
      if (containsCode(text, code))
        found.push(`${code.name} in ${path.relative(ROOT, file)}`)
    }
  }
  if (found.length) throw new Error(found.join('; '))
  console.log(
    `  ${files.length} file(s) searched: no ${BROWSER_ONLY.map((c) => c.name).join(', no ')}`,
  )
}

/** @param {string} text @param {(typeof BROWSER_ONLY)[number]} code */
function containsCode(text, code) {
  return (
    code.markers.some((marker) => text.includes(marker)) ||
    (code.specifier?.test(text) ?? false)
  )
}

/** Every .js file under `dir`. @param {string} dir @returns {string[]} */
function jsFiles(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
}

/**
 * What each page makes the browser download before it is interactive (the entry, the root and the
 * route module with everything they import statically, as listed by public/build/manifest-*.js and
 * found in the files themselves), gzip-compressed file by file as they are served. For the room, also
 * every chain of lazy imports it can take (the WebRTC room, the HLS player): the 100ms SDK and hls.js
 * may sit only there.
 * @param {string} publicDir
 */
function checkFirstLoads(publicDir) {
  const buildDir = path.join(publicDir, 'build')
  const manifestFile = readdirSync(buildDir).find((name) =>
    /^manifest-[\w-]+\.js$/.test(name),
  )
  if (!manifestFile) throw new Error('public/build has no manifest-*.js')
  const manifest = JSON.parse(
    readFileSync(path.join(buildDir, manifestFile), 'utf8')
      .trim()
      .replace(/^window\.__remixManifest\s*=\s*/, '')
      .replace(/;$/, ''),
  )

  /** @type {Map<string, { gzip: number, text: string, imports: string[], lazy: string[] }>} */
  const files = new Map()
  const load = (url) => {
    let file = files.get(url)
    if (!file) {
      const text = readFileSync(path.join(publicDir, url), 'utf8')
      file = {
        text,
        gzip: gzipSync(text).length,
        imports: importsOf(
          text,
          url,
          /(?:\bfrom|\bimport)\s*["']([^"']+)["']/g,
        ),
        lazy: importsOf(text, url, /\bimport\(\s*["']([^"']+)["']\s*\)/g),
      }
      files.set(url, file)
    }
    return file
  }
  /** The URLs `roots` load, statically imported modules included. @param {string[]} roots */
  const closure = (roots, loaded = new Set()) => {
    const added = new Set()
    const visit = (url) => {
      if (loaded.has(url) || added.has(url)) return
      added.add(url)
      load(url).imports.forEach(visit)
    }
    roots.forEach(visit)
    return added
  }
  const sizeOf = (urls) =>
    [...urls].reduce((sum, url) => sum + load(url).gzip, 0)
  const kib = (bytes) => `${(bytes / KIB).toFixed(1)} KiB`
  /**
   * Every chain of lazy imports that can follow from loading `from` (on top of `loaded`), each step
   * with the files it adds.
   */
  const lazyChains = (from, loaded = from, via = []) => {
    const targets = new Set([...from].flatMap((url) => load(url).lazy))
    const chains = []
    for (const target of targets) {
      if (loaded.has(target)) continue
      const added = closure([target], loaded)
      const step = { target, added, bytes: sizeOf(added) }
      const next = lazyChains(added, new Set([...loaded, ...added]), [
        ...via,
        step,
      ])
      chains.push(...(next.length ? next : [[...via, step]]))
    }
    return chains
  }

  const pages = Object.values(manifest.routes).filter(
    (route) => route.id !== 'root' && isPage(route),
  )
  if (!pages.some((route) => route.id === ROOM_ROUTE))
    throw new Error(`${ROOM_ROUTE} is not in the manifest`)
  const problems = []
  /** @type {Set<string>} */
  const eager = new Set()
  /** @type {Set<string>} lazily loaded by pages other than the room */
  const lazyElsewhere = new Set()
  /** @type {Set<string>} */
  const lazyInRoom = new Set()
  /** @type {Set<string>} lazily loaded by a page's recording player (hls.js only, never the SDK) */
  const lazyInPlayers = new Set()
  for (const route of pages) {
    const roots = [manifest.entry.module, ...(manifest.entry.imports ?? [])]
    for (let r = route; r; r = r.parentId ? manifest.routes[r.parentId] : null)
      roots.push(r.module, ...(r.imports ?? []))
    const firstLoad = closure(roots)
    firstLoad.forEach((url) => eager.add(url))
    const bytes = sizeOf(firstLoad)
    const chains = lazyChains(firstLoad)
    for (const chain of chains) {
      for (const { added } of chain)
        added.forEach((url) =>
          (route.id === ROOM_ROUTE
            ? lazyInRoom
            : PLAYER_ROUTES.has(route.id)
              ? lazyInPlayers
              : lazyElsewhere
          ).add(url),
        )
    }
    const name = route.path === undefined ? '/' : `/${route.path ?? ''}`
    if (route.id !== ROOM_ROUTE) {
      const budget = PAGE_BUDGETS[name] ?? PAGE_BUDGET
      console.log(`  ${name.padEnd(20)} ${kib(bytes)}`)
      if (bytes > budget)
        problems.push(`${name} loads ${kib(bytes)} (budget ${kib(budget)})`)
      continue
    }
    console.log(`  ${name.padEnd(20)} ${kib(bytes)} before its video loads`)
    if (chains.length === 0) problems.push(`${name} lazily loads no video code`)
    for (const chain of chains) {
      const total = bytes + chain.reduce((sum, step) => sum + step.bytes, 0)
      const steps = chain
        .map((step) => `${path.basename(step.target)} +${kib(step.bytes)}`)
        .join(' → ')
      console.log(`    with ${steps} = ${kib(total)}`)
      if (total > ROOM_WITH_VIDEO_BUDGET)
        problems.push(
          `${name} with ${steps} loads ${kib(total)} (budget ${kib(ROOM_WITH_VIDEO_BUDGET)})`,
        )
    }
  }
  // The SDK and hls.js: in no page's first load; the SDK lazily loaded by the room alone, hls.js
  // by the room and the recording player.
  for (const [url, file] of files) {
    for (const code of BROWSER_ONLY) {
      if (!containsCode(file.text, code)) continue
      if (eager.has(url))
        problems.push(`${code.name} is in a first load: ${url}`)
      else if (code.name === 'hls.js' && lazyInPlayers.has(url)) {
        if (lazyElsewhere.has(url))
          problems.push(`${code.name} is loaded outside the players: ${url}`)
      } else if (
        lazyElsewhere.has(url) ||
        lazyInPlayers.has(url) ||
        !lazyInRoom.has(url)
      )
        problems.push(`${code.name} is loaded outside the room's video: ${url}`)
    }
  }
  for (const name of readdirSync(path.join(buildDir, '_shared'))) {
    const url = `/build/_shared/${name}`
    if (!name.endsWith('.js') || files.has(url)) continue
    // A chunk no page reaches is harmless, but SDK code there means the graph above missed it.
    const file = load(url)
    for (const code of BROWSER_ONLY) {
      if (containsCode(file.text, code))
        problems.push(
          `${code.name} is in ${url}, which no page was seen to load`,
        )
    }
  }
  if (problems.length) throw new Error(problems.join('; '))
}

/** Module URLs a built file imports (absolute /build/… or relative). */
function importsOf(text, url, pattern) {
  const found = []
  for (const [, specifier] of text.matchAll(pattern)) {
    if (specifier.startsWith('/')) found.push(specifier)
    else if (specifier.startsWith('.'))
      found.push(path.posix.join(path.posix.dirname(url), specifier))
  }
  return found
}

/** A route with a component: its source has a default export (resource routes have none). */
function isPage(route) {
  const base = path.join(ROOT, 'app', route.id)
  const source = ['.tsx', '.ts', '.jsx', '.js']
    .map((ext) => base + ext)
    .find((file) => existsSync(file))
  return source
    ? /\bexport\s+default\b/.test(readFileSync(source, 'utf8'))
    : false
}

if (failures.length) {
  console.error(`\ncheck failed: ${failures.join('; ')}`)
  process.exit(1)
}
console.log('\nAll checks passed.')
