import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import {
  Form,
  useActionData,
  useLoaderData,
  useNavigation,
} from '@remix-run/react'
import { DomainError } from '../models/errors'
import { needsProfile, updateProfile } from '../models/users.server'
import { getDb } from '../utils/context.server'
import { parseForm, WelcomeForm } from '../utils/forms.server'
import { requireUser, safeRedirect } from '../utils/session.server'

export const meta: MetaFunction = () => [{ title: 'Welcome — Kulti' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context, { allowIncomplete: true })
  const redirectTo = safeRedirect(
    new URL(request.url).searchParams.get('redirectTo'),
  )
  if (!needsProfile(user)) throw redirect(redirectTo)
  return {
    redirectTo,
    username: user.username ?? '',
    displayName: user.displayName ?? '',
  }
}

type ActionData = {
  values: Record<string, string>
  errors: Record<string, string>
}

export async function action({
  request,
  context,
}: ActionFunctionArgs): Promise<ActionData> {
  const user = await requireUser(request, context, { allowIncomplete: true })
  const form = await request.formData()
  const values = {
    username: String(form.get('username') ?? ''),
    displayName: String(form.get('displayName') ?? ''),
  }
  const input = parseForm(WelcomeForm, values)
  if (!input.ok) return { values, errors: input.errors }
  try {
    await updateProfile(getDb(context), user.id, input.data)
  } catch (error) {
    // A taken username (409) or a missing field comes back as field messages to show on the form.
    if (!(error instanceof DomainError)) throw error
    return { values, errors: error.fields ?? { form: error.message } }
  }
  throw redirect(safeRedirect(form.get('redirectTo')))
}

export default function Welcome() {
  const profile = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const errors = actionData?.errors ?? {}
  const values = actionData?.values ?? profile
  const saving = useNavigation().state === 'submitting'
  return (
    <section className="auth-card card">
      <h1>Welcome to Kulti</h1>
      <p className="muted">
        Pick the name people will see when you build and watch live.
      </p>
      <Form method="post" className="stack">
        <input type="hidden" name="redirectTo" value={profile.redirectTo} />
        {errors.form ? (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor="username">Username</label>
          <div className="input-prefix">
            <span aria-hidden="true">@</span>
            <input
              id="username"
              name="username"
              type="text"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              required
              minLength={3}
              maxLength={20}
              pattern="[A-Za-z0-9_\-]{3,20}"
              defaultValue={values.username}
              aria-invalid={errors.username ? true : undefined}
              aria-describedby={
                errors.username
                  ? 'username-error username-hint'
                  : 'username-hint'
              }
            />
          </div>
          <p id="username-hint" className="hint">
            3–20 characters: a–z, 0–9, _ and -. Your profile lives at
            /u/your-username.
          </p>
          {errors.username ? (
            <p id="username-error" className="field-error">
              {errors.username}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="displayName">Display name</label>
          <input
            id="displayName"
            name="displayName"
            type="text"
            autoComplete="name"
            required
            maxLength={50}
            defaultValue={values.displayName}
            aria-invalid={errors.displayName ? true : undefined}
            aria-describedby={
              errors.displayName
                ? 'displayName-error displayName-hint'
                : 'displayName-hint'
            }
          />
          <p id="displayName-hint" className="hint">
            Up to 50 characters; you can change it later in settings.
          </p>
          {errors.displayName ? (
            <p id="displayName-error" className="field-error">
              {errors.displayName}
            </p>
          ) : null}
        </div>
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Saving…' : 'Continue'}
        </button>
      </Form>
    </section>
  )
}
