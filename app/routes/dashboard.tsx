import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import {
  Form,
  Link,
  useActionData,
  useLoaderData,
  useRevalidator,
} from '@remix-run/react'
import { useEffect } from 'react'
import { SessionCard } from '../components/session/session-card'
import { FormError } from '../components/ui/form-error'
import { SubmitButton } from '../components/ui/submit-button'
import { TextField } from '../components/ui/text-field'
import { Avatar } from '../components/ui/avatar'
import {
  createSession,
  dashboardSessions,
} from '../models/live-sessions.server'
import { toMe } from '../models/users.server'
import { getDb } from '../utils/context.server'
import {
  CreateSessionForm,
  formAction,
  formHeaders,
  parseForm,
} from '../utils/forms.server'
import { requireUser } from '../utils/session.server'

export const meta: MetaFunction = () => [
  { title: 'Dashboard — Kulti' },
  {
    name: 'description',
    content:
      'Start a live building session, or join one that is live now on Kulti.',
  },
]

export const headers = formHeaders

// Live lists move: the page asks again on this interval, without a full reload.
const REFRESH_SECONDS = 15

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  const { live, mine } = await dashboardSessions(getDb(context), user.id)
  return { me: toMe(user), live, mine }
}

type ActionData = {
  values: Record<string, string>
  errors: Record<string, string>
}

export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, context }, form): Promise<ActionData> => {
      const user = await requireUser(request, context)
      const input = parseForm(CreateSessionForm, {
        title: form.get('title'),
        description: form.get('description') ?? '',
        isPublic: form.get('isPublic'),
        maxPresenters: form.get('maxPresenters') ?? '4',
      })
      await context.limiter.check('session-create', user.id)
      const session = await createSession(
        getDb(context),
        context.hms,
        user,
        input,
      )
      throw redirect(`/s/${session.roomCode}`)
    },
    (form, errors): ActionData => ({
      values: {
        title: String(form.get('title') ?? ''),
        description: String(form.get('description') ?? ''),
      },
      errors,
    }),
  )
}

export default function Dashboard() {
  const { me, live, mine } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const revalidator = useRevalidator()
  useEffect(() => {
    const timer = setInterval(() => {
      if (
        document.visibilityState === 'visible' &&
        revalidator.state === 'idle'
      )
        revalidator.revalidate()
    }, REFRESH_SECONDS * 1000)
    return () => clearInterval(timer)
  }, [revalidator])
  const myLive = mine.filter((s) => s.status === 'live')
  const myEnded = mine.filter((s) => s.status === 'ended')

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
            <Link to="/credits" className="credits-link">
              <span className="credits-amount">
                {me.credits.toLocaleString('en')}
              </span>{' '}
              credits
            </Link>
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

        <section className="card" aria-labelledby="create-heading">
          <h2 id="create-heading">Go live</h2>
          <details className="create-session" open={actionData !== undefined}>
            <summary className="button">Start a session</summary>
            <Form method="post" className="stack">
              <FormError message={actionData?.errors.form} />
              <TextField
                name="title"
                label="Title"
                hint="Up to 60 characters: what are you building?"
                error={actionData?.errors.title}
                type="text"
                required
                maxLength={60}
                defaultValue={actionData?.values.title}
              />
              <div className="field">
                <label htmlFor="description">Description (optional)</label>
                <textarea
                  id="description"
                  name="description"
                  rows={3}
                  maxLength={280}
                  defaultValue={actionData?.values.description}
                  aria-invalid={
                    actionData?.errors.description ? true : undefined
                  }
                />
              </div>
              <div className="field">
                <label htmlFor="maxPresenters">Presenters (you included)</label>
                <select
                  id="maxPresenters"
                  name="maxPresenters"
                  defaultValue="4"
                >
                  {[2, 3, 4, 5, 6].map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field field-checkbox">
                <input
                  id="isPublic"
                  name="isPublic"
                  type="checkbox"
                  defaultChecked
                />
                <label htmlFor="isPublic">
                  Public: listed on the dashboard (private sessions are joined
                  by their link)
                </label>
              </div>
              <SubmitButton pendingLabel="Creating…">Go live</SubmitButton>
            </Form>
          </details>
          {myLive.length > 0 ? (
            <>
              <h3>Your live sessions</h3>
              <ul className="session-list" aria-label="Your live sessions">
                {myLive.map((session) => (
                  <SessionCard key={session.id} session={session} />
                ))}
              </ul>
            </>
          ) : null}
        </section>

        <section className="card live-now" aria-labelledby="live-heading">
          <h2 id="live-heading">Live now</h2>
          {live.length === 0 ? (
            <p className="muted">No one is live right now.</p>
          ) : (
            <ul className="session-list" aria-label="Live sessions">
              {live.map((session) => (
                <SessionCard key={session.id} session={session} />
              ))}
            </ul>
          )}
        </section>

        {myEnded.length > 0 ? (
          <section className="card" aria-labelledby="past-heading">
            <h2 id="past-heading">Your past sessions</h2>
            <ul className="session-list" aria-label="Your past sessions">
              {myEnded.map((session) => (
                <SessionCard key={session.id} session={session} />
              ))}
            </ul>
          </section>
        ) : null}
      </div>
    </div>
  )
}
