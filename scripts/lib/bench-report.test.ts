import { describe, expect, it } from 'vitest'
import {
  formatRatio,
  markdownTable,
  median,
  ratio,
  renderReport,
  type BenchResults,
  type LoadFigure,
} from './bench-report'

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([98, 91, 100, 97, 99])).toBe(98)
  })

  it('is the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })

  it('refuses an empty list rather than inventing a figure', () => {
    expect(() => median([])).toThrow()
  })
})

describe('ratio', () => {
  it('divides by the baseline and prints two decimals with ×', () => {
    expect(formatRatio(ratio(280, 1100))).toBe('0.25×')
    expect(formatRatio(ratio(1100, 1100))).toBe('1.00×')
  })

  it('says n/a when the baseline measured nothing', () => {
    expect(formatRatio(ratio(280, 0))).toBe('n/a')
  })
})

describe('markdownTable', () => {
  it('pads every column to its widest cell under a separator row', () => {
    expect(markdownTable(['a', 'long header'], [['wide cell', '1']])).toBe(
      [
        '| a         | long header |',
        '| --------- | ----------- |',
        '| wide cell | 1           |',
      ].join('\n'),
    )
  })

  it('refuses a row with the wrong number of cells or a pipe in a cell', () => {
    expect(() => markdownTable(['a', 'b'], [['1']])).toThrow(/1 cells, not 2/)
    expect(() => markdownTable(['a'], [['x|y']])).toThrow(/"\|"/)
  })
})

const figure = (
  name: string,
  baseline: string | null,
  requestsPerSecond: number,
  p50: number,
): LoadFigure => ({
  name,
  baseline,
  requestsPerSecond,
  p50,
  p99: p50 * 3,
  requests: requestsPerSecond * 5,
  errors: 0,
})

const results: BenchResults = {
  benchmark: 'kulti',
  at: '2026-01-01T00:00:00.000Z',
  database: 'postgresql',
  machine: { cpus: 2, node: 'v20.19.0' },
  durationSeconds: 400,
  load: {
    connections: 100,
    seconds: 5,
    warmupSeconds: 2,
    figures: [
      figure('bare Worker: constant', null, 1000, 10),
      figure('landing /', 'bare Worker: constant', 800, 12),
      figure('dashboard /dashboard', 'bare Worker: constant', 250, 60),
    ],
  },
  roundTrips: [
    { page: 'landing', path: '/', roundTrips: 1, connections: 1, hot: true },
    {
      page: 'dashboard',
      path: '/dashboard',
      roundTrips: 2,
      connections: 1,
      hot: true,
    },
    {
      page: 'settings',
      path: '/settings',
      roundTrips: 2,
      connections: 1,
      hot: false,
    },
  ],
  bundles: {
    workers: [
      { name: 'app Worker', rawKiB: 1473.2, gzipKiB: 280.1, budgetKiB: 300 },
      { name: 'webhooks Worker', rawKiB: 466, gzipKiB: 133, budgetKiB: 100 },
    ],
    pages: [{ page: '/', gzipBytes: 88_452 }],
  },
  startup: [
    { worker: 'bare', cpuMs: 2, runs: 5 },
    { worker: 'app', cpuMs: 50, runs: 5 },
  ],
  lighthouse: {
    runs: 5,
    seconds: 200,
    retries: 0,
    pages: [
      {
        page: 'landing',
        path: '/',
        median: {
          performance: 99,
          accessibility: 100,
          bestPractices: 100,
          seo: 100,
        },
        runs: 5,
      },
      {
        page: 'login',
        path: '/login',
        median: {
          performance: 100,
          accessibility: 95,
          bestPractices: 100,
          seo: 91,
        },
        runs: 5,
      },
    ],
  },
}

/** The cells of the row whose first cell is `name`, in the report's section `section` ("(a)"…). */
function row(report: string, section: string, name: string): string[] {
  const start = report.indexOf(`## ${section}`)
  const end = report.indexOf('\n## ', start + 1)
  const rows = report
    .slice(start, end === -1 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
  const found = rows.find((cells) => cells[0] === name)
  if (!found) throw new Error(`no row for ${name} in section ${section}`)
  return found
}

describe('renderReport', () => {
  const report = renderReport(results)

  it('names the database and the run time', () => {
    expect(report).toContain('Database: PostgreSQL.')
    expect(report).toContain('The whole run took 400 s.')
  })

  it('puts each load figure next to its ratios to the bare Worker and its targets', () => {
    expect(row(report, '(a)', 'bare Worker: constant')).toEqual([
      'bare Worker: constant',
      '1000',
      '10',
      '30',
      '0 / 5000',
      '(baseline)',
      '',
      '',
      '',
    ])
    expect(row(report, '(a)', 'landing /').slice(5)).toEqual([
      '0.80×',
      '1.20×',
      'req/s ≥ 0.7× bare',
      'pass',
    ])
    // 0.25× is under 0.3×; a p50 six times the bare one is over five.
    expect(row(report, '(a)', 'dashboard /dashboard').slice(5)).toEqual([
      '0.25×',
      '6.00×',
      'req/s ≥ 0.3× bare; p50 ≤ 5× bare',
      '**FAIL**; **FAIL**',
    ])
  })

  it('holds hot pages to one round trip and the others to two', () => {
    expect(row(report, '(b)', 'landing').slice(2)).toEqual([
      '1',
      '1',
      '≤ 1 (hot page)',
      'pass',
    ])
    expect(row(report, '(b)', 'dashboard').slice(2)).toEqual([
      '2',
      '1',
      '≤ 1 (hot page)',
      '**FAIL**',
    ])
    expect(row(report, '(b)', 'settings').slice(4)).toEqual(['≤ 2', 'pass'])
  })

  it('checks each Worker against its gzip budget', () => {
    expect(row(report, '(c)', 'app Worker').slice(2)).toEqual([
      '280.1 KiB',
      '≤ 300 KiB gzip',
      'pass',
    ])
    expect(row(report, '(c)', 'webhooks Worker').slice(2)).toEqual([
      '133.0 KiB',
      '≤ 100 KiB gzip',
      '**FAIL**',
    ])
    expect(row(report, '(c)', '/')).toEqual(['/', '86.4 KiB'])
  })

  it('compares start-up CPU with the bare Worker', () => {
    expect(row(report, '(d)', 'app')).toEqual(['app', '50.0', '25.00×'])
  })

  it('fails a Lighthouse page when any category is under its target', () => {
    expect(row(report, '(e)', 'landing').slice(2)).toEqual([
      '99',
      '100',
      '100',
      '100',
      '≥ 98/100/100/100',
      'pass',
    ])
    expect(row(report, '(e)', 'login').slice(-1)).toEqual(['**FAIL**'])
  })
})
