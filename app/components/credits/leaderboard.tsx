import { Link } from '@remix-run/react'
import { formatCredits } from './format'

export interface Leader {
  username: string
  displayName: string
  earned: number
}

function LeaderList({
  id,
  title,
  leaders,
  me,
}: {
  id: string
  title: string
  leaders: Leader[]
  me: string
}) {
  return (
    <div className="leaderboard-period">
      <h3 id={id}>{title}</h3>
      {leaders.length === 0 ? (
        <p className="muted">No one has earned credits yet.</p>
      ) : (
        <ol className="leader-list" aria-labelledby={id}>
          {leaders.map((leader) => (
            <li
              key={leader.username}
              className={leader.username === me ? 'leader leader-me' : 'leader'}
            >
              <Link to={`/u/${leader.username}`} className="leader-name">
                {leader.displayName}
              </Link>
              {leader.username === me ? (
                <span className="muted"> (you)</span>
              ) : null}
              <span className="leader-earned">
                {formatCredits(leader.earned)}
                <span className="visually-hidden"> credits earned</span>
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}

/** Who earned most, all time and over the last 7 days (tips received count; spending does not). */
export function Leaderboard({
  allTime,
  lastWeek,
  me,
}: {
  allTime: Leader[]
  lastWeek: Leader[]
  /** The signed-in user's username, marked "(you)". */
  me: string
}) {
  return (
    <section className="card leaderboard" aria-labelledby="leaderboard-heading">
      <h2 id="leaderboard-heading">Leaderboard</h2>
      <div className="leaderboard-periods">
        <LeaderList
          id="leaders-all"
          title="All time"
          leaders={allTime}
          me={me}
        />
        <LeaderList
          id="leaders-7d"
          title="Last 7 days"
          leaders={lastWeek}
          me={me}
        />
      </div>
    </section>
  )
}
