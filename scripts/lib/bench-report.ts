// The pure half of `npm run bench` (bench/run.ts): the shape of bench/results.json, the issue's
// targets, and the Markdown report made from them. No I/O here, so it is unit-tested.

/** One autocannon scenario. Latencies in ms; `errors` counts failed requests and non-2xx answers. */
export interface LoadFigure {
  name: string
  /** The scenario whose throughput and p50 this one is compared with (a bare Worker's). */
  baseline: string | null
  requestsPerSecond: number
  p50: number
  p99: number
  requests: number
  errors: number
}

export interface RoundTripFigure {
  page: string
  path: string
  /** ReadyForQuery messages the database sent after startup while one request was served. */
  roundTrips: number
  /** Postgres connections opened for it. */
  connections: number
  hot: boolean
}

export interface WorkerSize {
  name: string
  rawKiB: number
  gzipKiB: number
  budgetKiB: number
}

export interface PageBundle {
  page: string
  gzipBytes: number
}

export interface StartupFigure {
  worker: string
  /** Median CPU time of evaluating the bundle's top level (parse, compile, run), in ms. */
  cpuMs: number
  runs: number
}

export interface LighthouseScores {
  performance: number
  accessibility: number
  bestPractices: number
  seo: number
}

export interface LighthouseFigure {
  page: string
  path: string
  /** Each category's median over the runs, 0–100. */
  median: LighthouseScores
  runs: number
}

export interface BenchResults {
  benchmark: 'kulti'
  at: string
  database: 'postgresql' | 'pglite'
  machine: { cpus: number; node: string }
  durationSeconds: number
  load: {
    connections: number
    seconds: number
    warmupSeconds: number
    figures: LoadFigure[]
  }
  roundTrips: RoundTripFigure[]
  bundles: { workers: WorkerSize[]; pages: PageBundle[] }
  startup: StartupFigure[]
  lighthouse: {
    runs: number
    seconds: number
    pages: LighthouseFigure[]
    /** Runs repeated because Lighthouse reported a runtime error (a broken trace). */
    retries: number
  }
}

// The targets (issue 14, "Performance targets").
export const TARGETS = {
  landingThroughput: 0.7,
  dashboardThroughput: 0.3,
  dashboardP50: 5,
  roundTrips: 2,
  hotRoundTrips: 1,
  lighthouse: {
    performance: 98,
    accessibility: 100,
    bestPractices: 100,
    seo: 100,
  } satisfies LighthouseScores,
} as const

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('the median of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** value ÷ base; NaN when there is no base to compare with. */
export function ratio(value: number, base: number): number {
  return base > 0 ? value / base : Number.NaN
}

export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a'
}

const verdict = (pass: boolean) => (pass ? 'pass' : '**FAIL**')

/** A GitHub-flavoured Markdown table. Cells may not contain `|`. */
export function markdownTable(headers: string[], rows: string[][]): string {
  for (const row of [headers, ...rows]) {
    if (row.length !== headers.length)
      throw new Error(`a row has ${row.length} cells, not ${headers.length}`)
    if (row.some((cell) => cell.includes('|')))
      throw new Error(`a cell contains "|": ${row.join(' ')}`)
  }
  const widths = headers.map((_, i) =>
    Math.max(3, ...[headers, ...rows].map((row) => row[i]!.length)),
  )
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`
  return [
    line(headers),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n')
}

interface Verdict {
  target: string
  pass: boolean
}

/** The targets a load figure is held to, given its baseline. */
export function loadTargets(
  figure: LoadFigure,
  baseline: LoadFigure | undefined,
): Verdict[] {
  if (!baseline) return []
  const throughput = ratio(figure.requestsPerSecond, baseline.requestsPerSecond)
  if (figure.name === 'landing /')
    return [
      {
        target: `req/s ≥ ${TARGETS.landingThroughput}× bare`,
        pass: throughput >= TARGETS.landingThroughput,
      },
    ]
  if (figure.name === 'dashboard /dashboard')
    return [
      {
        target: `req/s ≥ ${TARGETS.dashboardThroughput}× bare`,
        pass: throughput >= TARGETS.dashboardThroughput,
      },
      {
        target: `p50 ≤ ${TARGETS.dashboardP50}× bare`,
        pass: ratio(figure.p50, baseline.p50) <= TARGETS.dashboardP50,
      },
    ]
  return []
}

export function roundTripTarget(figure: RoundTripFigure): Verdict {
  const limit = figure.hot ? TARGETS.hotRoundTrips : TARGETS.roundTrips
  return {
    target: `≤ ${limit}${figure.hot ? ' (hot page)' : ''}`,
    pass: figure.roundTrips <= limit,
  }
}

export function lighthouseTarget(scores: LighthouseScores): Verdict {
  const wanted = TARGETS.lighthouse
  return {
    target: `≥ ${wanted.performance}/${wanted.accessibility}/${wanted.bestPractices}/${wanted.seo}`,
    pass: (Object.keys(wanted) as Array<keyof LighthouseScores>).every(
      (category) => scores[category] >= wanted[category],
    ),
  }
}

const fixed = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
const verdicts = (list: Verdict[]) =>
  list.length
    ? [
        list.map((v) => v.target).join('; '),
        list.map((v) => verdict(v.pass)).join('; '),
      ]
    : ['', '']

/** Every figure next to its target, as Markdown. */
export function renderReport(results: BenchResults): string {
  const byName = new Map(results.load.figures.map((f) => [f.name, f]))
  const database =
    results.database === 'postgresql' ? 'PostgreSQL' : 'embedded PGlite'
  const load = markdownTable(
    [
      'Scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'req/s vs bare',
      'p50 vs bare',
      'target',
      'result',
    ],
    results.load.figures.map((figure) => {
      const baseline = figure.baseline ? byName.get(figure.baseline) : undefined
      return [
        figure.name,
        fixed(figure.requestsPerSecond),
        fixed(figure.p50),
        fixed(figure.p99),
        `${figure.errors} / ${figure.requests}`,
        baseline
          ? formatRatio(
              ratio(figure.requestsPerSecond, baseline.requestsPerSecond),
            )
          : '(baseline)',
        baseline ? formatRatio(ratio(figure.p50, baseline.p50)) : '',
        ...verdicts(loadTargets(figure, baseline)),
      ]
    }),
  )
  const trips = markdownTable(
    ['Page', 'path', 'round trips', 'connections', 'target', 'result'],
    results.roundTrips.map((figure) => [
      figure.page,
      figure.path,
      String(figure.roundTrips),
      String(figure.connections),
      ...verdicts([roundTripTarget(figure)]),
    ]),
  )
  const workers = markdownTable(
    ['Worker', 'raw', 'gzip', 'target', 'result'],
    results.bundles.workers.map((w) => [
      w.name,
      `${w.rawKiB.toFixed(1)} KiB`,
      `${w.gzipKiB.toFixed(1)} KiB`,
      ...verdicts([
        { target: `≤ ${w.budgetKiB} KiB gzip`, pass: w.gzipKiB <= w.budgetKiB },
      ]),
    ]),
  )
  const pages = markdownTable(
    ['Page', 'first-load JS (gzip)'],
    results.bundles.pages.map((p) => [p.page, kib(p.gzipBytes)]),
  )
  const bare = results.startup.find((s) => s.worker === 'bare')
  const startup = markdownTable(
    ['Worker', 'start-up CPU ms (median)', 'vs bare'],
    results.startup.map((s) => [
      s.worker,
      fixed(s.cpuMs, 1),
      s === bare || !bare ? '' : formatRatio(ratio(s.cpuMs, bare.cpuMs)),
    ]),
  )
  const lighthouse = markdownTable(
    [
      'Page',
      'path',
      'Performance',
      'Accessibility',
      'Best practices',
      'SEO',
      'target',
      'result',
    ],
    results.lighthouse.pages.map((p) => [
      p.page,
      p.path,
      fixed(p.median.performance),
      fixed(p.median.accessibility),
      fixed(p.median.bestPractices),
      fixed(p.median.seo),
      ...verdicts([lighthouseTarget(p.median)]),
    ]),
  )
  return [
    `# Kulti bench, ${results.at}`,
    '',
    `Database: ${database}. Machine: ${results.machine.cpus} CPUs, Node ${results.machine.node}. ` +
      `The whole run took ${Math.round(results.durationSeconds)} s.`,
    '',
    `## (a) Throughput and latency (autocannon, ${results.load.connections} connections, ` +
      `${results.load.seconds} s after a ${results.load.warmupSeconds} s warm-up)`,
    '',
    load,
    '',
    '## (b) Database round trips per request (one request of each page, nothing else running)',
    '',
    trips,
    '',
    '## (c) Bundle sizes',
    '',
    workers,
    '',
    pages,
    '',
    '## (d) Worker start-up CPU (top-level evaluation of the built bundle in V8)',
    '',
    startup,
    '',
    `## (e) Lighthouse 12.2.3, mobile, median of ${results.lighthouse.runs} runs ` +
      `(${Math.round(results.lighthouse.seconds)} s` +
      (results.lighthouse.retries
        ? `; ${results.lighthouse.retries} run(s) repeated after a broken trace)`
        : ')'),
    '',
    lighthouse,
    '',
  ].join('\n')
}
