import { Link } from '@remix-run/react'
import type { PublicSession } from '../../models/live-sessions.server'

/** What a session card shows: the public fields of a session (a type only; nothing of the model ships). */
export type SessionSummary = Pick<
  PublicSession,
  | 'id'
  | 'roomCode'
  | 'title'
  | 'description'
  | 'isPublic'
  | 'status'
  | 'host'
  | 'liveViewers'
>

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
