import {
  redirect,
  type ActionFunctionArgs,
  type LinksFunction,
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
import { ChatPanel } from '../components/chat/chat-panel'
import { TipForm, type TipFormResult } from '../components/credits/tip-form'
import { VideoStage } from '../components/session/video-stage'
import { FormError } from '../components/ui/form-error'
import { SubmitButton } from '../components/ui/submit-button'
import { archiveAfterEnd, setSessionModerator } from '../models/chat.server'
import { boostSession, tip } from '../models/credits.server'
import {
  endSession,
  getRoomView,
  setHls,
  setPresenter,
} from '../models/live-sessions.server'
import { startRecording, stopRecording } from '../models/recordings.server'
import { getDb } from '../utils/context.server'
import { DomainError } from '../utils/errors'
import {
  formAction,
  formHeaders,
  parseForm,
  TipForm as TipFormSchema,
} from '../utils/forms.server'
import { requireUser } from '../utils/session.server'
import chatStyles from '../styles/chat.css'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.room.session.title} — Kulti` : 'Session — Kulti' },
  {
    name: 'description',
    content:
      data?.room.session.description ||
      'A live building session on Kulti: watch, chat and learn.',
  },
]

export const headers = formHeaders

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: chatStyles },
]

// Roles and the session's status change under the page (a promotion, the end): it asks again.
const REFRESH_SECONDS = 10

const ROLE_LABELS = {
  host: 'Host',
  presenter: 'Presenter',
  viewer: 'Viewer',
} as const

/**
 * The room. Anyone signed in with the link may enter (the code in the URL is the invitation to a
 * private session); the role shown and used comes from the database.
 */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  const db = getDb(context)
  const room = await getRoomView(db, params.roomCode ?? '', user.id)
  if (!room) throw new Response('Not Found', { status: 404 })
  // The code is how people share the room; one spelling in the address bar.
  if (params.roomCode !== room.session.roomCode)
    throw redirect(`/s/${room.session.roomCode}`)
  // Everyone in the room is told while a recording runs; getRoomView brings it in its one query.
  const recording = room.session.status === 'live' ? room.activeRecording : null
  return {
    room,
    recording: recording ? { startedAt: recording.startedAt } : null,
    me: { id: user.id, displayName: user.displayName ?? user.username ?? '' },
    // The tip form's idempotency key, fresh per render: a double submit pays the host once.
    tipping:
      room.myRole === 'host'
        ? null
        : { balance: user.credits, key: crypto.randomUUID() },
    // The boost form's idempotency key, fresh per render: a double submit pays once.
    boostKey: room.myRole === 'host' ? crypto.randomUUID() : null,
  }
}

type ActionData =
  | ({ intent: 'tip' } & TipFormResult)
  | { intent: 'control'; errors: Record<string, string> }

/** Host controls, as forms that work without JavaScript. */
export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, params, context }, form): Promise<ActionData> => {
      const user = await requireUser(request, context)
      const db = getDb(context)
      const room = await getRoomView(db, params.roomCode ?? '', user.id)
      if (!room)
        throw new DomainError('not_found', 'There is no such session.', 404)
      const sessionId = room.session.id
      const intent = form.get('intent')
      if (intent === 'end') {
        await endSession(db, context.hms, user, sessionId)
        await archiveAfterEnd(db, context.chat, sessionId)
      } else if (intent === 'promote' || intent === 'demote') {
        await setPresenter(db, context.hms, user, sessionId, {
          userId: String(form.get('userId') ?? ''),
          action: intent,
        })
      } else if (intent === 'moderator-add' || intent === 'moderator-remove') {
        // Host only (the model checks): a chat moderator among the participants.
        await setSessionModerator(db, context.chat, user.id, sessionId, {
          userId: String(form.get('userId') ?? ''),
          action: intent === 'moderator-add' ? 'add' : 'remove',
        })
      } else if (intent === 'tip') {
        // Anyone in the room tips its host, in this session; both come from the database.
        const input = parseForm(TipFormSchema, Object.fromEntries(form))
        await context.limiter.check('tip', user.id)
        const { body } = await tip(
          db,
          user,
          {
            recipientId: room.session.hostId,
            amount: input.amount,
            message: input.message,
            sessionId,
          },
          input.idempotencyKey,
        )
        return {
          intent,
          tipped: { amount: body.tip.amount, balance: body.balance },
          errors: {},
        }
      } else if (intent === 'record-start' || intent === 'record-stop') {
        // Host only: the model checks the role, and one recording runs at a time (409).
        await context.limiter.check('recording-control', user.id)
        const control =
          intent === 'record-start' ? startRecording : stopRecording
        await control(db, context.hms, user, sessionId)
      } else if (intent === 'boost') {
        // Host only; 500 credits, 402 when short, 409 while a boost runs (SPEC §3).
        await boostSession(
          db,
          user,
          sessionId,
          String(form.get('idempotencyKey') ?? '') || null,
        )
      } else if (intent === 'hls-start' || intent === 'hls-stop') {
        await setHls(
          db,
          context.hms,
          user,
          sessionId,
          intent === 'hls-start' ? 'start' : 'stop',
        )
      } else {
        throw new DomainError('unknown_intent', 'Unknown form intent.')
      }
      throw redirect(`/s/${room.session.roomCode}`)
    },
    (form, errors): ActionData =>
      form.get('intent') === 'tip'
        ? {
            intent: 'tip',
            values: {
              amount: String(form.get('amount') ?? ''),
              message: String(form.get('message') ?? ''),
            },
            errors,
          }
        : { intent: 'control', errors },
  )
}

export default function Room() {
  const { room, me, tipping, recording, boostKey } =
    useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const tipResult = actionData?.intent === 'tip' ? actionData : undefined
  const controlErrors = actionData?.intent === 'tip' ? undefined : actionData
  const { session, participants, myRole } = room
  const live = session.status === 'live'
  const isHost = myRole === 'host'
  const revalidator = useRevalidator()
  useEffect(() => {
    if (!live) return
    const timer = setInterval(() => {
      if (
        document.visibilityState === 'visible' &&
        revalidator.state === 'idle'
      )
        revalidator.revalidate()
    }, REFRESH_SECONDS * 1000)
    return () => clearInterval(timer)
  }, [live, revalidator])
  const presenters = participants.filter((p) => p.role !== 'viewer').length

  return (
    <div className="room">
      <header className="room-header">
        <div>
          <h1>{session.title}</h1>
          <p className="muted">
            Hosted by {session.host.displayName ?? 'someone'} · Room code{' '}
            <strong>{session.roomCode}</strong>
            {session.isPublic ? '' : ' · Private'}
          </p>
        </div>
        <p className="room-status" role="status">
          {live ? (
            <>
              <span className="live-badge">Live</span> · {session.liveViewers}{' '}
              {session.liveViewers === 1 ? 'viewer' : 'viewers'}
            </>
          ) : (
            'This session has ended.'
          )}
        </p>
        {/* Always there while live, so a recording that starts is announced as it appears. */}
        {live ? (
          <p className="recording-indicator" role="status">
            {recording ? (
              <>
                <span className="recording-dot" aria-hidden="true">
                  ●
                </span>{' '}
                Recording
                <span className="visually-hidden">
                  : this session is being recorded
                </span>
              </>
            ) : null}
          </p>
        ) : null}
      </header>

      <FormError
        message={controlErrors?.errors.form ?? controlErrors?.errors.userId}
      />

      <div className="room-layout">
        <div className="room-main">
          {live ? (
            <VideoStage
              sessionId={session.id}
              roomCode={session.roomCode}
              role={myRole}
              displayName={me.displayName}
              live={live}
            />
          ) : (
            <section className="card room-ended" aria-label="Session ended">
              <p>
                This session has ended. Its recording, when there is one, will
                be on your recordings page.
              </p>
              <Link to="/dashboard" className="button">
                Back to the dashboard
              </Link>
            </section>
          )}

          <p className="muted">
            You are in this session as <strong>{ROLE_LABELS[myRole]}</strong>.
          </p>

          {isHost && live ? (
            <section
              className="card host-controls"
              aria-labelledby="host-heading"
            >
              <h2 id="host-heading">Host controls</h2>
              <div className="host-actions">
                <Form method="post">
                  <SubmitButton
                    intent={recording ? 'record-stop' : 'record-start'}
                    className="button button-ghost"
                    pendingLabel={recording ? 'Stopping…' : 'Starting…'}
                  >
                    {recording ? 'Stop recording' : 'Start recording'}
                  </SubmitButton>
                </Form>
                <Form method="post">
                  <SubmitButton
                    intent={
                      session.hlsStatus === 'off' ? 'hls-start' : 'hls-stop'
                    }
                    className="button button-ghost"
                    pendingLabel="Working…"
                  >
                    {session.hlsStatus === 'off'
                      ? 'Start HLS stream'
                      : session.hlsStatus === 'starting'
                        ? 'Stop HLS stream (starting…)'
                        : 'Stop HLS stream'}
                  </SubmitButton>
                </Form>
                <Form method="post">
                  <input
                    type="hidden"
                    name="idempotencyKey"
                    value={boostKey ?? ''}
                  />
                  <SubmitButton
                    intent="boost"
                    className="button button-ghost"
                    pendingLabel="Boosting…"
                    disabled={session.isBoosted}
                  >
                    {session.isBoosted
                      ? 'Boosted: listed first for 24 hours'
                      : 'Boost for 500 credits'}
                  </SubmitButton>
                </Form>
                <Form method="post">
                  <SubmitButton
                    intent="end"
                    className="button button-danger"
                    pendingLabel="Ending…"
                  >
                    End session for everyone
                  </SubmitButton>
                </Form>
              </div>
            </section>
          ) : null}
        </div>

        <aside className="room-side">
          <section className="card" aria-labelledby="people-heading">
            <h2 id="people-heading">
              People ({participants.length}) · presenters {presenters}/
              {session.maxPresenters}
            </h2>
            <ul className="participant-list">
              {participants.map((p) => (
                <li key={p.userId} className="participant">
                  <span
                    className={p.present ? 'presence presence-on' : 'presence'}
                    aria-hidden="true"
                  />
                  <span className="participant-name">
                    {p.displayName ?? 'Someone'}
                    {p.userId === me.id ? ' (you)' : ''}
                  </span>
                  <span className="participant-role">
                    {ROLE_LABELS[p.role]}
                    {p.isModerator ? ' · Moderator' : ''}
                    <span className="visually-hidden">
                      {p.present ? ', in the room' : ', not in the room'}
                    </span>
                  </span>
                  {isHost && live && p.role !== 'host' ? (
                    <Form method="post" className="inline-form">
                      <input type="hidden" name="userId" value={p.userId} />
                      <SubmitButton
                        intent={p.role === 'viewer' ? 'promote' : 'demote'}
                        className="button button-small button-ghost"
                        pendingLabel="…"
                      >
                        {p.role === 'viewer'
                          ? `Make ${p.displayName ?? 'them'} a presenter`
                          : `Make ${p.displayName ?? 'them'} a viewer`}
                      </SubmitButton>
                      <SubmitButton
                        intent={
                          p.isModerator ? 'moderator-remove' : 'moderator-add'
                        }
                        className="button button-small button-ghost"
                        pendingLabel="…"
                      >
                        {p.isModerator
                          ? `Stop ${p.displayName ?? 'them'} moderating chat`
                          : `Make ${p.displayName ?? 'them'} a chat moderator`}
                      </SubmitButton>
                    </Form>
                  ) : null}
                </li>
              ))}
            </ul>
          </section>
          {tipping ? (
            <TipForm
              recipientName={session.host.displayName ?? 'the host'}
              idempotencyKey={tipping.key}
              balance={tipping.balance}
              result={tipResult}
            />
          ) : null}
          <ChatPanel
            sessionId={session.id}
            roomCode={session.roomCode}
            live={live}
          />
        </aside>
      </div>
    </div>
  )
}
