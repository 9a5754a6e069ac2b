import {
  redirect,
  type ActionFunctionArgs,
  type LinksFunction,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import { useActionData, useLoaderData, useRevalidator } from '@remix-run/react'
import { useEffect } from 'react'
import {
  RecordingFilters,
  RecordingList,
} from '../components/recordings/recording-list'
import type { RecordingFilter } from '../components/recordings/types'
import { FormError } from '../components/ui/form-error'
import {
  deleteRecording,
  listRecordings,
  type RecordingView,
} from '../models/recordings.server'
import chatStyles from '../styles/chat.css'
import { getDb } from '../utils/context.server'
import { DomainError, isDomainError } from '../utils/errors'
import { formAction, formHeaders, RecordingsQuery } from '../utils/forms.server'
import { requireUser } from '../utils/session.server'

export const meta: MetaFunction = () => [
  { title: 'Recordings — Kulti' },
  {
    name: 'description',
    content:
      'Rewatch the Kulti sessions you hosted or took part in, with their chat.',
  },
]

// The player's chat replay renders messages as the room does. A stylesheet cannot ride in the lazy
// player chunk (the compiler turns a .css import into a URL), so the page links it: a few KB of CSS.
export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: chatStyles },
]

export const headers = formHeaders

// A recording in progress or processing changes under the page: it asks again on this interval.
const REFRESH_SECONDS = 15

/**
 * My recordings, hosted and attended (SPEC §4), with the filters as the JSON API reads them
 * (`?status&role&from&to&q&sort&cursor&limit`; `from`/`to` are days here, both inclusive).
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  const search = new URL(request.url).searchParams
  // An empty field ("Any status") submits `status=`: no filter, not a wrong one.
  const raw = Object.fromEntries(
    [...search].filter(([, value]) => value !== ''),
  )
  const text = (name: string) => raw[name] ?? ''
  const filter: RecordingFilter = {
    status: text('status'),
    role: text('role'),
    from: text('from'),
    to: text('to'),
    q: text('q'),
    sort: text('sort'),
    limit: text('limit'),
    cursor: text('cursor'),
  }
  const deleted = search.get('deleted') === '1'
  const query = RecordingsQuery.safeParse(raw)
  if (!query.success)
    return {
      recordings: [] as RecordingView[],
      nextCursor: null,
      filter,
      deleted,
      problem: query.error.issues[0]?.message ?? 'Check the filters.',
    }
  // Days go as they are: the model reads `to` as the whole of that day.
  const page = await listRecordings(getDb(context), user.id, query.data).catch(
    (error: unknown) => {
      // A page link from an old list (or edited by hand): say so, as /credits does for its filter.
      if (isDomainError(error) && error.code === 'invalid_cursor')
        throw new Response(error.message, { status: 400 })
      throw error
    },
  )
  return { ...page, filter, deleted, problem: null }
}

type ActionData = { errors: Record<string, string> }

/** Delete (hosts only; the model decides): back to the same list, which says it is gone. */
export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, context }, form): Promise<ActionData> => {
      const user = await requireUser(request, context)
      if (form.get('intent') !== 'delete')
        throw new DomainError('unknown_intent', 'Unknown form intent.')
      await deleteRecording(
        getDb(context),
        context.hms,
        user.id,
        String(form.get('id') ?? ''),
      )
      const back = new URL(request.url).searchParams
      back.delete('index')
      back.set('deleted', '1')
      throw redirect(`/recordings?${back}`)
    },
    (_form, errors): ActionData => ({ errors }),
  )
}

export default function Recordings() {
  const { recordings, nextCursor, filter, deleted, problem } =
    useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const revalidator = useRevalidator()
  const changing = recordings.some(
    (r) => r.status === 'recording' || r.status === 'processing',
  )
  useEffect(() => {
    if (!changing) return
    const timer = setInterval(() => {
      if (
        document.visibilityState === 'visible' &&
        revalidator.state === 'idle'
      )
        revalidator.revalidate()
    }, REFRESH_SECONDS * 1000)
    return () => clearInterval(timer)
  }, [changing, revalidator])

  return (
    <div className="recordings-page">
      <h1>Recordings</h1>
      <p className="muted">
        Recordings of sessions you hosted or took part in. Only the host can
        delete one.
      </p>
      {deleted && !actionData ? (
        <p className="notice" role="status">
          The recording was deleted.
        </p>
      ) : null}
      <FormError message={actionData?.errors.form ?? actionData?.errors.id} />
      <RecordingFilters filter={filter} />
      {problem ? (
        <p className="form-error" role="alert">
          {problem}
        </p>
      ) : (
        <RecordingList
          recordings={recordings}
          nextCursor={nextCursor}
          filter={filter}
        />
      )}
    </div>
  )
}
