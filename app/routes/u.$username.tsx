import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import { Avatar } from '../components/ui/avatar'
import { getUserByUsername } from '../models/users.server'
import { getDb } from '../utils/context.server'

export async function loader({ params, context }: LoaderFunctionArgs) {
  const user = params.username
    ? await getUserByUsername(getDb(context), params.username)
    : null
  // Unknown, deleted and not-yet-named accounts all look the same from outside: not found.
  if (!user?.username || !user.displayName)
    throw new Response('Not Found', { status: 404 })
  // Only what a profile shows the world; the phone number never leaves the server.
  return {
    profile: {
      username: user.username,
      displayName: user.displayName,
      bio: user.bio,
      avatarUrl: user.avatarUrl,
      memberSince: user.createdAt.toISOString(),
      // Formatted here, in UTC, so the server's and the browser's renders agree.
      memberSinceLabel: user.createdAt.toLocaleDateString('en', {
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      }),
    },
  }
}

export const meta: MetaFunction<typeof loader> = ({ data }) => {
  if (!data) return [{ title: 'Profile not found — Kulti' }]
  const { displayName, username, bio } = data.profile
  return [
    { title: `${displayName} (@${username}) — Kulti` },
    {
      name: 'description',
      content: bio || `${displayName} builds software live on Kulti.`,
    },
  ]
}

export default function PublicProfile() {
  const { profile } = useLoaderData<typeof loader>()
  return (
    <article className="card public-profile">
      <div className="profile-head">
        <Avatar url={profile.avatarUrl} name={profile.displayName} large />
        <div>
          <h1 className="profile-name">{profile.displayName}</h1>
          <p className="muted">@{profile.username}</p>
        </div>
      </div>
      {profile.bio ? <p className="profile-bio">{profile.bio}</p> : null}
      <p className="muted">
        Member since{' '}
        <time dateTime={profile.memberSince}>{profile.memberSinceLabel}</time>
      </p>
    </article>
  )
}
