import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import { listOutbox } from '../models/sms-outbox.server'
import { getDb } from '../utils/context.server'
import { requireOutbox } from '../utils/outbox.server'

export const meta: MetaFunction = () => [
  { title: 'SMS outbox (development) — Kulti' },
  { name: 'robots', content: 'noindex' },
]

export async function loader({ context }: LoaderFunctionArgs) {
  requireOutbox(context)
  const messages = await listOutbox(getDb(context))
  return {
    messages: messages.map((message) => ({
      ...message,
      // UTC, formatted on the server, so the server's and the browser's renders agree.
      sentAtLabel:
        new Date(message.sentAt).toISOString().replace('T', ' ').slice(0, 19) +
        ' UTC',
    })),
  }
}

export default function DevOutbox() {
  const { messages } = useLoaderData<typeof loader>()
  return (
    <div className="outbox">
      <h1>SMS outbox</h1>
      <p className="dev-note">
        Development only: with <code>SMS_PROVIDER=outbox</code> texts are kept
        here instead of being sent, and this page does not exist in production.
        Newest first; reload to see new messages (or read{' '}
        <a href="/dev/outbox.json">/dev/outbox.json</a>).
      </p>
      {messages.length === 0 ? (
        <p className="muted">
          No messages yet. Ask for a sign-in code on the sign-in page and it
          will appear here.
        </p>
      ) : (
        <ol className="outbox-list">
          {messages.map((message, index) => (
            <li
              key={`${message.sentAt}-${index}`}
              className="card outbox-message"
            >
              <p className="outbox-meta">
                <span>
                  To <strong>{message.to}</strong>
                </span>
                <time dateTime={message.sentAt}>{message.sentAtLabel}</time>
              </p>
              <p className="outbox-body">{message.body}</p>
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}
