import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import { CreditChart } from '../components/credits/credit-chart'
import { CreditHistory } from '../components/credits/credit-history'
import { formatCredits } from '../components/credits/format'
import { Leaderboard } from '../components/credits/leaderboard'
import {
  Milestones,
  type MilestoneView,
} from '../components/credits/milestones'
import { MILESTONES } from '../models/credit-rules'
import { creditsOverview } from '../models/credits.server'
import { getDb } from '../utils/context.server'
import { CreditHistoryQuery } from '../utils/forms.server'
import { requireUser } from '../utils/session.server'

export const meta: MetaFunction = () => [
  { title: 'Credits — Kulti' },
  {
    name: 'description',
    content:
      'Your Kulti credits: balance, history, milestones and the leaderboard.',
  },
]

const CHART_DAYS = 30

/**
 * The signed-in user's credits (SPEC §3): balance and totals, 30 days as a chart, the history
 * (`?type`, `?cursor`, `?limit` as the JSON API reads them), milestones and the leaderboard.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  // An empty select ("Everything") submits `type=`: no filter, not a wrong one.
  const params = [...new URL(request.url).searchParams].filter(
    ([, value]) => value !== '',
  )
  const query = CreditHistoryQuery.safeParse(Object.fromEntries(params))
  if (!query.success)
    throw new Response(
      'That history filter is not one we know. Open your credits page again without it.',
      { status: 400 },
    )
  const { type, cursor, limit } = query.data
  // One statement: with the session lookup, the page costs two database round trips.
  const {
    balance,
    history,
    days,
    milestones: progress,
    leaders,
  } = await creditsOverview(getDb(context), user.id, {
    type,
    cursor,
    limit,
    days: CHART_DAYS,
  })
  const kindOf = new Map<string, string>(
    MILESTONES.map((m) => [m.name, m.kind]),
  )
  const milestones: MilestoneView[] = progress.map((m) => ({
    ...m,
    unit: kindOf.get(m.name)?.startsWith('minutes') ? 'minutes' : 'sessions',
  }))
  // The next milestone on each track (sessions watched, hours watched, hosted, hours hosted).
  const tracks = new Set<string | undefined>()
  const next = milestones.filter((m) => {
    const track = kindOf.get(m.name)
    if (m.reached || tracks.has(track)) return false
    tracks.add(track)
    return true
  })
  return {
    me: { username: user.username ?? '' },
    balance,
    days,
    history: {
      ...history,
      filter: {
        type: type ?? null,
        cursor: cursor ?? null,
        limit: params.some(([name]) => name === 'limit') ? limit : null,
      },
    },
    milestones: { reached: milestones.filter((m) => m.reached), next },
    leaders,
  }
}

export default function Credits() {
  const { me, balance, days, history, milestones, leaders } =
    useLoaderData<typeof loader>()
  return (
    <div className="credits-page">
      <h1>Credits</h1>
      <section
        className="card credit-summary"
        aria-labelledby="balance-heading"
      >
        <h2 id="balance-heading" className="visually-hidden">
          Balance
        </h2>
        <dl className="credit-totals">
          <div>
            <dt>Balance</dt>
            <dd className="credits-amount">{formatCredits(balance.balance)}</dd>
          </div>
          <div>
            <dt>Earned</dt>
            <dd>{formatCredits(balance.totalEarned)}</dd>
          </div>
          <div>
            <dt>Spent</dt>
            <dd>{formatCredits(balance.totalSpent)}</dd>
          </div>
        </dl>
        <p className="muted">
          Earn credits by watching and hosting sessions; spend them on tips and
          on boosting your sessions.
        </p>
      </section>

      <section className="card" aria-labelledby="chart-heading">
        <h2 id="chart-heading">Last 30 days</h2>
        <CreditChart days={days} />
      </section>

      <CreditHistory
        transactions={history.transactions}
        nextCursor={history.nextCursor}
        filter={history.filter}
      />

      <div className="credits-columns">
        <Milestones reached={milestones.reached} next={milestones.next} />
        <Leaderboard
          allTime={leaders.allTime}
          lastWeek={leaders.lastWeek}
          me={me.username}
        />
      </div>
    </div>
  )
}
