import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { useState } from 'react'
import { ConfirmDeletionField } from '../components/confirm-deletion-field'
import { DisplayNameField } from '../components/display-name-field'
import { FieldError } from '../components/ui/field-error'
import { FormError } from '../components/ui/form-error'
import { SubmitButton } from '../components/ui/submit-button'
import { fieldAria, TextField } from '../components/ui/text-field'
import { deleteAllAuthSessions } from '../models/auth-sessions.server'
import {
  getBlockedTerms,
  replaceBlockedTerms,
  leaveChatsAfterDeletion,
} from '../models/chat.server'
import { deleteAccount, toMe, updateProfile } from '../models/users.server'
import { getDb } from '../utils/context.server'
import { DomainError } from '../utils/errors'
import {
  BlockedTermsForm,
  formAction,
  formHeaders,
  parseForm,
  ProfileForm,
} from '../utils/forms.server'
import { requireUser } from '../utils/session.server'

export const meta: MetaFunction = () => [
  { title: 'Settings — Kulti' },
  {
    name: 'description',
    content: 'Your Kulti profile, chat settings and account.',
  },
]

export const headers = formHeaders

const BIO_MAX = 280

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  return {
    me: toMe(user),
    blockedTerms: await getBlockedTerms(getDb(context), user.id),
  }
}

type ActionData = {
  intent: 'profile' | 'blocked-terms' | 'delete'
  saved?: boolean
  values?: Record<string, string>
  errors: Record<string, string>
}

export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, context }, form): Promise<ActionData> => {
      const user = await requireUser(request, context)
      const db = getDb(context)
      const intent = form.get('intent')

      if (intent === 'profile') {
        const input = parseForm(ProfileForm, profileValues(form))
        await updateProfile(db, user.id, input)
        return { intent, saved: true, errors: {} }
      }

      if (intent === 'blocked-terms') {
        const { terms } = parseForm(BlockedTermsForm, {
          terms: form.get('terms'),
        })
        await replaceBlockedTerms(db, context.chat, user.id, terms)
        return { intent, saved: true, errors: {} }
      }

      if (intent === 'signout-everywhere') {
        await deleteAllAuthSessions(db, user.id)
        throw redirect('/login', {
          headers: { 'Set-Cookie': await context.session.clear() },
        })
      }

      if (intent === 'delete') {
        // Typing the exact username is the safeguard against a stray click; nothing happens otherwise.
        await deleteAccount(db, user, String(form.get('confirm') ?? ''))
        await leaveChatsAfterDeletion(db, context.chat, user.id)
        throw redirect('/?deleted=1', {
          headers: { 'Set-Cookie': await context.session.clear() },
        })
      }

      throw new DomainError('unknown_intent', 'Unknown form intent.')
    },
    (form, errors): ActionData => {
      const intent = form.get('intent')
      if (intent === 'delete') return { intent, errors }
      if (intent === 'blocked-terms')
        return {
          intent,
          values: { terms: String(form.get('terms') ?? '') },
          errors,
        }
      return { intent: 'profile', values: profileValues(form), errors }
    },
  )
}

function profileValues(form: FormData): Record<string, string> {
  return {
    displayName: String(form.get('displayName') ?? ''),
    bio: String(form.get('bio') ?? ''),
    avatarUrl: String(form.get('avatarUrl') ?? ''),
  }
}

export default function Settings() {
  const { me, blockedTerms } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const profile = actionData?.intent === 'profile' ? actionData : undefined
  const terms = actionData?.intent === 'blocked-terms' ? actionData : undefined
  const savedTerms = blockedTerms.join('\n')
  const deletion = actionData?.intent === 'delete' ? actionData : undefined
  const errors = profile?.errors ?? {}
  const values = profile?.values ?? {
    displayName: me.displayName ?? '',
    bio: me.bio,
    avatarUrl: me.avatarUrl ?? '',
  }
  const [bioLength, setBioLength] = useState(values.bio?.length ?? 0)

  return (
    <div className="settings">
      <h1>Settings</h1>

      <section className="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">Profile</h2>
        <p className="muted">
          Signed in as <strong>@{me.username}</strong>. Your public profile is
          at <Link to={`/u/${me.username}`}>/u/{me.username}</Link>.
        </p>
        <Form method="post" className="stack">
          <FormError message={errors.form} />
          {profile?.saved ? (
            <p className="form-success" role="status">
              Your profile is saved.
            </p>
          ) : null}
          <DisplayNameField
            defaultValue={values.displayName}
            error={errors.displayName}
          />
          <div className="field">
            <label htmlFor="bio">Bio</label>
            <textarea
              id="bio"
              name="bio"
              rows={4}
              maxLength={BIO_MAX}
              defaultValue={values.bio}
              onChange={(event) =>
                setBioLength(event.currentTarget.value.length)
              }
              {...fieldAria('bio', { error: errors.bio, hintId: 'bio-count' })}
            />
            <p id="bio-count" className="hint">
              {bioLength} / {BIO_MAX} characters
            </p>
            <FieldError id="bio-error" message={errors.bio} />
          </div>
          <TextField
            name="avatarUrl"
            label="Avatar URL"
            hint="An https:// link to an image. Leave it empty for no avatar."
            error={errors.avatarUrl}
            type="url"
            inputMode="url"
            pattern="https://.+"
            placeholder="https://…"
            defaultValue={values.avatarUrl}
          />
          <SubmitButton intent="profile" pendingLabel="Saving…">
            Save profile
          </SubmitButton>
        </Form>
      </section>

      <section className="card" aria-labelledby="blocked-terms-heading">
        <h2 id="blocked-terms-heading">Blocked chat terms</h2>
        <p className="muted">
          In the chat of sessions you host, a message containing one of these
          terms (in any case) is held back: only its author sees it.
        </p>
        <Form method="post" className="stack">
          <FormError message={terms?.errors.form} />
          {terms?.saved ? (
            <p className="form-success" role="status">
              Your blocked terms are saved.
            </p>
          ) : null}
          <div className="field">
            <label htmlFor="terms">Blocked terms</label>
            {/* Keyed by the saved list, so a save shows the list as stored (trimmed, lowercased, deduplicated). */}
            <textarea
              key={savedTerms}
              id="terms"
              name="terms"
              rows={6}
              spellCheck={false}
              defaultValue={terms?.values?.terms ?? savedTerms}
              {...fieldAria('terms', {
                error: terms?.errors.terms,
                hintId: 'terms-hint',
              })}
            />
            <p id="terms-hint" className="hint">
              One term per line, at most 100 terms of up to 50 characters.
            </p>
            <FieldError id="terms-error" message={terms?.errors.terms} />
          </div>
          <SubmitButton intent="blocked-terms" pendingLabel="Saving…">
            Save blocked terms
          </SubmitButton>
        </Form>
      </section>

      <section className="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sign out everywhere</h2>
        <p className="muted">
          Signs you out on every device and browser, this one included. Use it
          if you lost a device or signed in somewhere you should not have.
        </p>
        <Form method="post">
          <SubmitButton
            intent="signout-everywhere"
            className="button button-ghost"
          >
            Sign out everywhere
          </SubmitButton>
        </Form>
      </section>

      <section className="card card-danger" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete account</h2>
        <p className="muted">
          This removes your profile, phone number and sign-ins for good. It
          cannot be undone.
        </p>
        <Form method="post" className="stack">
          <ConfirmDeletionField
            username={me.username}
            error={deletion?.errors.confirm}
          />
          <SubmitButton
            intent="delete"
            pendingLabel="Deleting…"
            className="button button-danger"
          >
            Delete my account
          </SubmitButton>
        </Form>
      </section>
    </div>
  )
}
