import { formatCredits, formatDay } from './format'

/** One UTC day of the ledger (dailyTotals, oldest first). */
export interface DayTotals {
  day: string
  earned: number
  spent: number
}

// Drawn in viewBox units; the SVG scales to its box and keeps a minimum width (CSS) so the
// axis labels stay readable, scrolling sideways in its own box on a narrow screen.
const WIDTH = 720
const HEIGHT = 220
const LEFT = 48
const RIGHT = 8
const TOP = 12
const BOTTOM = 28
const PLOT_WIDTH = WIDTH - LEFT - RIGHT
const PLOT_HEIGHT = HEIGHT - TOP - BOTTOM

/** The smallest 1, 2 or 5 × 10ⁿ at or above `value`: round numbers for the axis. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value))
  const step = [1, 2, 5, 10].find((s) => s * power >= value) ?? 10
  return step * power
}

/**
 * Earned and spent per day as bars, rendered on the server (no script needed). The picture is one
 * image with a title and a summary for screen readers; the numbers themselves are in a table
 * under "Show the numbers", for everyone.
 */
export function CreditChart({ days }: { days: DayTotals[] }) {
  const top = niceCeiling(
    Math.max(1, ...days.flatMap((d) => [d.earned, d.spent])),
  )
  const slot = PLOT_WIDTH / Math.max(days.length, 1)
  const barWidth = Math.max(2, slot * 0.36)
  const y = (value: number) => TOP + PLOT_HEIGHT - (value / top) * PLOT_HEIGHT
  const earned = days.reduce((sum, d) => sum + d.earned, 0)
  const spent = days.reduce((sum, d) => sum + d.spent, 0)
  const first = days[0]
  const last = days.at(-1)
  const middle = days[Math.floor(days.length / 2)]
  const busiest = days.reduce<DayTotals | undefined>(
    (best, d) => (d.earned > (best?.earned ?? 0) ? d : best),
    undefined,
  )
  const title = `Credits earned and spent per day, last ${days.length} days`
  const summary =
    first && last
      ? `From ${formatDay(first.day)} to ${formatDay(last.day)} you earned ${formatCredits(earned)} credits and spent ${formatCredits(spent)}.` +
        (busiest
          ? ` Most earned in a day: ${formatCredits(busiest.earned)} on ${formatDay(busiest.day)}.`
          : '')
      : 'No days to show.'

  return (
    <figure className="credit-chart">
      <div className="credit-chart-scroll">
        <svg
          className="credit-chart-svg"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          role="img"
          aria-labelledby="credit-chart-title"
          aria-describedby="credit-chart-desc"
        >
          <title id="credit-chart-title">{title}</title>
          <desc id="credit-chart-desc">{summary}</desc>
          {[0, top / 2, top].map((value) => (
            <g key={value} className="credit-chart-grid">
              <line x1={LEFT} x2={WIDTH - RIGHT} y1={y(value)} y2={y(value)} />
              <text x={LEFT - 6} y={y(value)} dy="0.35em" textAnchor="end">
                {formatCredits(value)}
              </text>
            </g>
          ))}
          {days.map((d, i) => {
            const x = LEFT + i * slot + (slot - 2 * barWidth) / 2
            return (
              <g key={d.day} data-day={d.day}>
                <title>{`${formatDay(d.day)}: earned ${formatCredits(d.earned)}, spent ${formatCredits(d.spent)}`}</title>
                {d.earned > 0 ? (
                  <rect
                    className="credit-chart-earned"
                    x={x}
                    y={y(d.earned)}
                    width={barWidth}
                    height={Math.max(1, y(0) - y(d.earned))}
                  />
                ) : null}
                {d.spent > 0 ? (
                  <rect
                    className="credit-chart-spent"
                    x={x + barWidth}
                    y={y(d.spent)}
                    width={barWidth}
                    height={Math.max(1, y(0) - y(d.spent))}
                  />
                ) : null}
              </g>
            )
          })}
          {[
            { d: first, anchor: 'start' as const, x: LEFT },
            { d: middle, anchor: 'middle' as const, x: LEFT + PLOT_WIDTH / 2 },
            { d: last, anchor: 'end' as const, x: WIDTH - RIGHT },
          ].map(({ d, anchor, x }) =>
            d ? (
              <text
                key={anchor}
                className="credit-chart-axis"
                x={x}
                y={HEIGHT - 8}
                textAnchor={anchor}
              >
                {formatDay(d.day, { year: false })}
              </text>
            ) : null,
          )}
        </svg>
      </div>
      <figcaption>
        <ul className="chart-legend">
          <li>
            <span className="chart-swatch chart-swatch-earned" aria-hidden />
            Earned
          </li>
          <li>
            <span className="chart-swatch chart-swatch-spent" aria-hidden />
            Spent
          </li>
        </ul>
      </figcaption>
      <details className="credit-chart-data">
        <summary>Show the numbers</summary>
        <div className="table-scroll">
          <table className="data-table">
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="numeric">
                  Earned
                </th>
                <th scope="col" className="numeric">
                  Spent
                </th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.day} data-day={d.day}>
                  <th scope="row">
                    <time dateTime={d.day}>{formatDay(d.day)}</time>
                  </th>
                  <td className="numeric">{formatCredits(d.earned)}</td>
                  <td className="numeric">{formatCredits(d.spent)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  )
}
