// Bundle sizes as the browser and Cloudflare see them: each page's first-load JavaScript (gzip, file
// by file as served) from the Remix manifest, and a Worker's upload size from wrangler's output.
// `npm run check` holds them to budgets; `npm run bench` reports them.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { ROOT } from './wrangler-env.mjs'

// Browser-only video code (DESIGN.md, "Known traps"): strings that survive minification and
// appear nowhere else. The package names catch an import left external (the Remix server build).
export const BROWSER_ONLY = [
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
export const KIB = 1024
// First-load JavaScript, gzip: every page but the room, and the room with its lazily loaded video.
const PAGE_BUDGET = 90 * KIB
const ROOM_WITH_VIDEO_BUDGET = 250 * KIB
// Pages with their own budget (first load, lazily loaded players not counted). /recordings plays
// recordings with hls.js too, lazily, on Play (the earlier build shipped 502 KB here).
const PAGE_BUDGETS = { '/recordings': 100 * KIB }
const PLAYER_ROUTES = new Set(['routes/recordings'])

/**
 * The size wrangler reports for a Worker it bundled (`Total Upload: 1473.20 KiB / gzip: 280.11 KiB`).
 * @param {string} output what `wrangler deploy --dry-run` printed
 */
export function uploadSize(output) {
  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output)
  if (!size) throw new Error('wrangler printed no bundle size')
  return { rawKiB: Number(size[1]), gzipKiB: Number(size[2]) }
}

/**
 * @typedef {object} FirstLoad
 * @property {string} name the page's path pattern (`/`, `/s/:roomCode`)
 * @property {string} routeId
 * @property {number} bytes first-load JavaScript, gzip
 * @property {number | null} budget bytes (null for the room, budgeted with its video)
 * @property {number[]} withVideo the room's totals with each chain of lazily loaded video code
 */

/** @param {string} text @param {(typeof BROWSER_ONLY)[number]} code */
export function containsCode(text, code) {
  return (
    code.markers.some((marker) => text.includes(marker)) ||
    (code.specifier?.test(text) ?? false)
  )
}

/**
 * What each page makes the browser download before it is interactive (the entry, the root and the
 * route module with everything they import statically, as listed by public/build/manifest-*.js and
 * found in the files themselves), gzip-compressed file by file as they are served. For the room, also
 * every chain of lazy imports it can take (the WebRTC room, the HLS player): the 100ms SDK and hls.js
 * may sit only there.
 * Returns each page's figures and the budget problems found (logged line by line through `log`).
 * @param {string} publicDir
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {{ pages: FirstLoad[], problems: string[] }}
 */
export function measureFirstLoads(publicDir, { log = () => {} } = {}) {
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
  /** @type {FirstLoad[]} */
  const measured = []
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
      measured.push({ name, routeId: route.id, bytes, budget, withVideo: [] })
      log(`  ${name.padEnd(20)} ${kib(bytes)}`)
      if (bytes > budget)
        problems.push(`${name} loads ${kib(bytes)} (budget ${kib(budget)})`)
      continue
    }
    /** @type {FirstLoad} */
    const room = { name, routeId: route.id, bytes, budget: null, withVideo: [] }
    measured.push(room)
    log(`  ${name.padEnd(20)} ${kib(bytes)} before its video loads`)
    if (chains.length === 0) problems.push(`${name} lazily loads no video code`)
    for (const chain of chains) {
      const total = bytes + chain.reduce((sum, step) => sum + step.bytes, 0)
      room.withVideo.push(total)
      const steps = chain
        .map((step) => `${path.basename(step.target)} +${kib(step.bytes)}`)
        .join(' → ')
      log(`    with ${steps} = ${kib(total)}`)
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
  return { pages: measured, problems }
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
