import { Link } from '@remix-run/react'

/** What a session card shows: the public fields of a session (PublicSession, serialised). */
export interface SessionSummary {
  id: string
  roomCode: string
  title: string
  description: string
  isPublic: boolean
  status: 'live' | 'ended'
  host: { username: string | null; displayName: string | null }
  liveViewers: number
}

/** One session in a list: title, host, viewers, and the link into the room. */
export function SessionCard({ session }: { session: SessionSummary }) {
  const viewers = `${session.liveViewers} ${session.liveViewers === 1 ? 'viewer' : 'viewers'}`
  return (
    <li className="session-card">
      <Link to={`/s/${session.roomCode}`} className="session-card-link">
        <span className="session-card-title">{session.title}</span>
      </Link>
      <span className="muted session-card-meta">
        {session.host.displayName ?? 'Someone'}
        {session.status === 'live' ? (
          <>
            {' · '}
            <span className="live-badge">Live</span> · {viewers}
          </>
        ) : (
          ' · Ended'
        )}
        {session.isPublic ? null : ' · Private'}
      </span>
      {session.description ? (
        <span className="session-card-description">{session.description}</span>
      ) : null}
    </li>
  )
}
