import { Form, Link } from '@remix-run/react'
import {
  CREDIT_TYPE_LABELS,
  CREDIT_TYPE_NAMES,
  type CreditTypeName,
} from './credit-types'
import { formatCredits, formatDateTime, formatSignedCredits } from './format'

/** A ledger row as the loader sends it (LedgerEntry, serialised). */
export interface HistoryEntry {
  id: string
  seq: number
  amount: number
  balanceAfter: number
  type: CreditTypeName
  counterparty: string | null
  metadata: Record<string, unknown>
  createdAt: string
}

/** The query the page was loaded with: kept in the filter and in the "Older" link. */
export interface HistoryFilter {
  type: CreditTypeName | null
  cursor: number | null
  /** Only when the address named one, so links keep it. */
  limit: number | null
}

function historyHref(filter: HistoryFilter, cursor: number | null): string {
  const query = new URLSearchParams()
  if (filter.type) query.set('type', filter.type)
  if (filter.limit) query.set('limit', String(filter.limit))
  if (cursor) query.set('cursor', String(cursor))
  const search = query.toString()
  return search ? `/credits?${search}#history` : '/credits#history'
}

/** The day and the time, each kept whole; a narrow column breaks between them. */
function When({ iso }: { iso: string }) {
  const [day, time] = formatDateTime(iso)
  return (
    <time dateTime={iso}>
      <span className="history-when">{`${day},`}</span>{' '}
      <span className="history-when">{time}</span>
    </time>
  )
}

/** What a row was about, beyond its type: who, which milestone, the tip's note. */
function describe(entry: HistoryEntry): string | null {
  const text = (key: string) =>
    typeof entry.metadata[key] === 'string'
      ? (entry.metadata[key] as string)
      : null
  const message = text('message')
  const note = message ? ` “${message}”` : ''
  switch (entry.type) {
    case 'tip_sent':
      return `To ${entry.counterparty ?? 'a deleted account'}${note}`
    case 'tip_received':
      return `From ${entry.counterparty ?? 'a deleted account'}${note}`
    case 'milestone':
      return text('label')
    case 'settlement_viewer':
    case 'settlement_presenter':
    case 'settlement_host': {
      const minutes = entry.metadata.minutes
      return typeof minutes === 'number'
        ? `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`
        : null
    }
    default:
      return null
  }
}

/**
 * The ledger, newest first, with a type filter (a plain GET form, so it works without JavaScript)
 * and keyset pagination: "Older" continues below the last row shown.
 */
export function CreditHistory({
  transactions,
  nextCursor,
  filter,
}: {
  transactions: HistoryEntry[]
  nextCursor: number | null
  filter: HistoryFilter
}) {
  return (
    <section className="card credit-history" aria-labelledby="history">
      <h2 id="history">History</h2>
      <Form method="get" className="history-filter" action="/credits#history">
        <div className="field">
          <label htmlFor="type">Show</label>
          <select id="type" name="type" defaultValue={filter.type ?? ''}>
            <option value="">Everything</option>
            {CREDIT_TYPE_NAMES.map((type) => (
              <option key={type} value={type}>
                {CREDIT_TYPE_LABELS[type]}
              </option>
            ))}
          </select>
        </div>
        {filter.limit ? (
          <input type="hidden" name="limit" value={filter.limit} />
        ) : null}
        <button type="submit" className="button button-small button-ghost">
          Filter
        </button>
      </Form>
      {transactions.length === 0 ? (
        <p className="muted">
          {filter.type
            ? `No “${CREDIT_TYPE_LABELS[filter.type]}” entries${filter.cursor ? ' further back' : ' yet'}.`
            : 'Nothing here yet.'}
        </p>
      ) : (
        <div className="table-scroll">
          <table className="data-table history-table">
            <caption className="visually-hidden">
              {filter.type
                ? `Your credits history: ${CREDIT_TYPE_LABELS[filter.type]}`
                : 'Your credits history'}
              {filter.cursor ? ', older entries' : ', newest first'}
            </caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col" className="numeric">
                  Amount
                </th>
                <th scope="col" className="numeric">
                  Balance
                </th>
              </tr>
            </thead>
            <tbody>
              {transactions.map((entry) => {
                const detail = describe(entry)
                return (
                  <tr key={entry.id} data-type={entry.type}>
                    <td>
                      <When iso={entry.createdAt} />
                    </td>
                    <td>
                      <span className="history-type">
                        {CREDIT_TYPE_LABELS[entry.type]}
                      </span>
                      {detail ? (
                        <span className="history-detail">{detail}</span>
                      ) : null}
                    </td>
                    <td
                      className={
                        entry.amount < 0
                          ? 'numeric amount-spent'
                          : 'numeric amount-earned'
                      }
                    >
                      {formatSignedCredits(entry.amount)}
                    </td>
                    <td className="numeric">
                      {formatCredits(entry.balanceAfter)}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {nextCursor || filter.cursor ? (
        <nav className="history-pages" aria-label="History pages">
          {filter.cursor ? (
            <Link to={historyHref(filter, null)}>Newest</Link>
          ) : null}
          {nextCursor ? (
            <Link to={historyHref(filter, nextCursor)} rel="next">
              Older
            </Link>
          ) : null}
        </nav>
      ) : null}
    </section>
  )
}
