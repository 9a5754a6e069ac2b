import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { Link, useLoaderData } from '@remix-run/react'
import { Avatar } from '../components/ui/avatar'
import { toMe } from '../models/users.server'
import { requireUser } from '../utils/session.server'

export const meta: MetaFunction = () => [{ title: 'Dashboard — Kulti' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  return { me: toMe(user) }
}

export default function Dashboard() {
  const { me } = useLoaderData<typeof loader>()
  return (
    <div className="dashboard">
      <h1>Welcome back, {me.displayName}</h1>
      <div className="dashboard-grid">
        <section
          className="card profile-card"
          aria-labelledby="profile-heading"
        >
          <h2 id="profile-heading" className="visually-hidden">
            Your profile
          </h2>
          <div className="profile-head">
            <Avatar url={me.avatarUrl} name={me.displayName ?? ''} />
            <div>
              <p className="profile-name">{me.displayName}</p>
              <p className="muted">@{me.username}</p>
            </div>
          </div>
          {me.bio ? (
            <p className="profile-bio">{me.bio}</p>
          ) : (
            <p className="muted">No bio yet.</p>
          )}
          <p className="credits">
            <span className="credits-amount">
              {me.credits.toLocaleString('en')}
            </span>{' '}
            credits
          </p>
          <div className="card-actions">
            <Link
              to={`/u/${me.username}`}
              className="button button-small button-ghost"
            >
              View public profile
            </Link>
            <Link to="/settings" className="button button-small button-ghost">
              Edit in settings
            </Link>
          </div>
        </section>
        <section className="card live-now" aria-labelledby="live-heading">
          <h2 id="live-heading">Live now</h2>
          {/* Live sessions fill this in when they exist (SPEC §2); until then it says so plainly. */}
          <p className="muted">No one is live right now.</p>
        </section>
      </div>
    </div>
  )
}
