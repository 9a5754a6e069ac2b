import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { DisplayNameField } from '../components/display-name-field'
import { FormError } from '../components/ui/form-error'
import { SubmitButton } from '../components/ui/submit-button'
import { TextField } from '../components/ui/text-field'
import { DomainError } from '../models/errors'
import { needsProfile, updateProfile } from '../models/users.server'
import { getDb } from '../utils/context.server'
import { parseForm, readForm, WelcomeForm } from '../utils/forms.server'
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
  const form = await readForm(request)
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
  return (
    <section className="auth-card card">
      <h1>Welcome to Kulti</h1>
      <p className="muted">
        Pick the name people will see when you build and watch live.
      </p>
      <Form method="post" className="stack">
        <input type="hidden" name="redirectTo" value={profile.redirectTo} />
        <FormError message={errors.form} />
        <TextField
          name="username"
          label="Username"
          inputPrefix="@"
          hint="3–20 characters: a–z, 0–9, _ and -. Your profile lives at /u/your-username."
          error={errors.username}
          type="text"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          minLength={3}
          maxLength={20}
          pattern="[A-Za-z0-9_\-]{3,20}"
          defaultValue={values.username}
        />
        <DisplayNameField
          defaultValue={values.displayName}
          error={errors.displayName}
          hint="Up to 50 characters; you can change it later in settings."
        />
        <SubmitButton pendingLabel="Saving…">Continue</SubmitButton>
      </Form>
    </section>
  )
}
