import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
  MetaFunction,
} from '@remix-run/cloudflare'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { formatHours } from '../components/credits/format'
import { TipForm, type TipFormResult } from '../components/credits/tip-form'
import { Avatar } from '../components/ui/avatar'
import { tip } from '../models/credits.server'
import { getPublicProfile } from '../models/profile-stats.server'
import { getUserByUsername } from '../models/users.server'
import { getDb } from '../utils/context.server'
import { DomainError } from '../utils/errors'
import {
  formAction,
  formHeaders,
  parseForm,
  TipForm as TipFormSchema,
} from '../utils/forms.server'
import { getUser, requireUser } from '../utils/session.server'

export const headers = formHeaders

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const [profile, viewer] = await Promise.all([
    getPublicProfile(getDb(context), params.username ?? ''),
    getUser(context),
  ])
  // Unknown, deleted and not-yet-named accounts all look the same from outside: not found.
  if (!profile) throw new Response('Not Found', { status: 404 })
  const { pathname } = new URL(request.url)
  // Only what a profile shows the world; the phone number and the id never leave the server.
  return {
    profile: {
      username: profile.username,
      displayName: profile.displayName,
      bio: profile.bio,
      avatarUrl: profile.avatarUrl,
      memberSince: profile.createdAt.toISOString(),
      // Formatted here, in UTC, so the server's and the browser's renders agree.
      memberSinceLabel: profile.createdAt.toLocaleDateString('en', {
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      }),
      sessionsHosted: profile.sessionsHosted,
      hoursStreamed: formatHours(profile.minutesStreamed),
      hoursWatched: formatHours(profile.minutesWatched),
      badges: profile.badges.map(({ name, label }) => ({ name, label })),
    },
    // Someone signed in, on another person's profile, can tip them. A fresh key per render: a
    // double submit of this form pays once.
    tipping:
      viewer?.username && viewer.id !== profile.id
        ? { balance: viewer.credits, key: crypto.randomUUID() }
        : null,
    signInToTip: viewer
      ? null
      : `/login?${new URLSearchParams({ redirectTo: pathname })}`,
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

/** The tip form (SPEC §3): the person on the page is the recipient, never a field of the form. */
export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, params, context }, form): Promise<TipFormResult> => {
      const user = await requireUser(request, context)
      const db = getDb(context)
      const input = parseForm(TipFormSchema, Object.fromEntries(form))
      const recipient = await getUserByUsername(db, params.username ?? '')
      if (!recipient?.username || !recipient.displayName)
        throw new DomainError(
          'recipient_not_found',
          'There is no such person to tip.',
          404,
        )
      await context.limiter.check('tip', user.id)
      const { body } = await tip(
        db,
        user,
        {
          recipientId: recipient.id,
          amount: input.amount,
          message: input.message,
        },
        input.idempotencyKey,
      )
      return {
        tipped: { amount: body.tip.amount, balance: body.balance },
        errors: {},
      }
    },
    (form, errors): TipFormResult => ({
      values: {
        amount: String(form.get('amount') ?? ''),
        message: String(form.get('message') ?? ''),
      },
      errors,
    }),
  )
}

export default function PublicProfile() {
  const { profile, tipping, signInToTip } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  return (
    <div className="profile-page">
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
        <dl className="profile-stats">
          <div>
            <dt>Sessions hosted</dt>
            <dd>{profile.sessionsHosted.toLocaleString('en')}</dd>
          </div>
          <div>
            <dt>Hours streamed</dt>
            <dd>{profile.hoursStreamed}</dd>
          </div>
          <div>
            <dt>Hours watched</dt>
            <dd>{profile.hoursWatched}</dd>
          </div>
        </dl>
        <h2 className="profile-badges-heading">Badges</h2>
        {profile.badges.length === 0 ? (
          <p className="muted">No milestones reached yet.</p>
        ) : (
          <ul className="badge-list" aria-label="Milestones reached">
            {profile.badges.map((badge) => (
              <li key={badge.name} className="badge">
                {badge.label}
              </li>
            ))}
          </ul>
        )}
        <p className="muted profile-note">
          Hours count once a session has ended.
        </p>
      </article>
      {tipping ? (
        <TipForm
          recipientName={profile.displayName}
          idempotencyKey={tipping.key}
          balance={tipping.balance}
          result={result}
        />
      ) : signInToTip ? (
        <p className="public-profile-aside">
          <Link to={signInToTip}>Sign in</Link> to tip {profile.displayName}.
        </p>
      ) : null}
    </div>
  )
}
