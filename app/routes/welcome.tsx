import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { ConfirmDeletionField } from '../components/confirm-deletion-field'
import { DisplayNameField } from '../components/display-name-field'
import { FormError } from '../components/ui/form-error'
import { SubmitButton } from '../components/ui/submit-button'
import { TextField } from '../components/ui/text-field'
import { leaveChatsAfterDeletion } from '../models/chat.server'
import {
  deleteAccount,
  needsProfile,
  updateProfile,
} from '../models/users.server'
import { getDb } from '../utils/context.server'
import {
  formAction,
  formHeaders,
  parseForm,
  WelcomeForm,
} from '../utils/forms.server'
import { maskedPhone } from '../utils/phone'
import { requireUser, safeRedirect } from '../utils/session.server'

export const meta: MetaFunction = () => [
  { title: 'Welcome — Kulti' },
  {
    name: 'description',
    content: 'Choose your username and display name to finish signing up.',
  },
]

export const headers = formHeaders

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
    phone: user.phone ? maskedPhone(user.phone) : null,
    // What deleting asks to retype (confirmAccountDeletion): a username once one was chosen.
    confirmUsername: user.username,
  }
}

type ActionData = {
  intent: 'profile' | 'delete'
  values: Record<string, string>
  errors: Record<string, string>
}

export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, context }, form): Promise<ActionData> => {
      const user = await requireUser(request, context, {
        allowIncomplete: true,
      })
      if (form.get('intent') === 'delete') {
        // Signed up with the wrong number, or changed their mind: no username needed to leave.
        await deleteAccount(
          getDb(context),
          user,
          String(form.get('confirm') ?? ''),
        )
        await leaveChatsAfterDeletion(getDb(context), context.chat, user.id)
        throw redirect('/?deleted=1', {
          headers: { 'Set-Cookie': await context.session.clear() },
        })
      }
      const input = parseForm(WelcomeForm, {
        username: form.get('username'),
        displayName: form.get('displayName'),
      })
      await updateProfile(getDb(context), user.id, input)
      throw redirect(safeRedirect(form.get('redirectTo')))
    },
    (form, errors): ActionData => ({
      intent: form.get('intent') === 'delete' ? 'delete' : 'profile',
      values: {
        username: String(form.get('username') ?? ''),
        displayName: String(form.get('displayName') ?? ''),
      },
      errors,
    }),
  )
}

export default function Welcome() {
  const profile = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const profileAction =
    actionData?.intent === 'profile' ? actionData : undefined
  const deletion = actionData?.intent === 'delete' ? actionData : undefined
  const errors = profileAction?.errors ?? {}
  const values = profileAction?.values ?? profile
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
        <SubmitButton intent="profile" pendingLabel="Saving…">
          Continue
        </SubmitButton>
      </Form>
      <details className="welcome-delete" open={deletion !== undefined}>
        <summary>Not you, or changed your mind? Delete this account</summary>
        <Form method="post" className="stack">
          <p className="muted">
            This removes the account
            {profile.phone ? (
              <>
                {' '}
                for <strong>{profile.phone}</strong>
              </>
            ) : null}{' '}
            and its phone number for good.
          </p>
          <FormError message={deletion?.errors.form} />
          <ConfirmDeletionField
            username={profile.confirmUsername}
            error={deletion?.errors.confirm}
          />
          <SubmitButton
            intent="delete"
            pendingLabel="Deleting…"
            className="button button-danger"
          >
            Delete this account
          </SubmitButton>
        </Form>
      </details>
    </section>
  )
}
