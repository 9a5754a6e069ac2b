import { useEffect, useLayoutEffect, useRef, useState } from 'react'
import type { ChatMessage } from '../../models/chat-rules'
import { ChatMessageText } from './chat-message-text'
import { useSessionChat } from './use-session-chat'

const MAX_CHARS = 500
const SLOW_MODE_CHOICES = [0, 5, 10, 30, 60, 120]
const TIMEOUT_MINUTES = 10

// Client-side effects only after hydration; on the server the layout effect would warn.
const useIsomorphicLayoutEffect =
  typeof window === 'undefined' ? useEffect : useLayoutEffect

/**
 * The room's chat (SPEC §2a): the same for WebRTC and HLS viewers, since it has nothing to do with
 * the video. New messages are announced through a log region; the list follows new messages
 * unless the reader scrolled up, and then offers a button back to the newest.
 */
export function ChatPanel({
  sessionId,
  roomCode,
  live,
}: {
  sessionId: string
  roomCode: string
  live: boolean
}) {
  const { state, sendMessage, markQuestion, moderate, dismissNotice } =
    useSessionChat({ sessionId, roomCode, enabled: live })
  const { member, messages, connection, notice, slowModeSeconds } = state
  const canModerate = !!member && (member.role === 'host' || member.isModerator)
  const [draft, setDraft] = useState('')
  const listRef = useRef<HTMLDivElement>(null)
  const [following, setFollowing] = useState(true)
  const [unseen, setUnseen] = useState(0)
  const lastCount = useRef(messages.length)

  useIsomorphicLayoutEffect(() => {
    const list = listRef.current
    const added = messages.length - lastCount.current
    lastCount.current = messages.length
    if (!list) return
    if (following) list.scrollTop = list.scrollHeight
    else if (added > 0) setUnseen((n) => n + added)
  }, [messages, following])

  function onScroll() {
    const list = listRef.current
    if (!list) return
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24
    setFollowing(atBottom)
    if (atBottom) setUnseen(0)
  }

  function jumpToNewest() {
    setFollowing(true)
    setUnseen(0)
  }

  function submit(event: React.FormEvent) {
    event.preventDefault()
    const text = draft.trim()
    if (!text) return
    if (sendMessage(text)) {
      setDraft('')
      jumpToNewest()
    }
  }

  const questions = canModerate
    ? messages.filter((m) => m.isQuestion && !m.isAnswered)
    : []
  const open = connection === 'open'

  return (
    <section className="card chat-panel" aria-labelledby="chat-heading">
      <h2 id="chat-heading">Chat</h2>
      <p className="muted chat-status" role="status">
        {statusText(connection, slowModeSeconds)}
      </p>

      {canModerate && open ? (
        <div className="chat-tools">
          <label className="chat-slow">
            Slow mode{' '}
            <select
              value={slowModeSeconds}
              onChange={(e) =>
                void moderate({
                  action: 'slow',
                  seconds: Number(e.target.value),
                })
              }
            >
              {SLOW_MODE_CHOICES.map((s) => (
                <option key={s} value={s}>
                  {s === 0 ? 'Off' : `${s} s`}
                </option>
              ))}
            </select>
          </label>
          <details className="chat-questions">
            <summary>Open questions ({questions.length})</summary>
            {questions.length === 0 ? (
              <p className="muted">No open questions.</p>
            ) : (
              <ol>
                {questions.map((q) => (
                  <li key={q.id}>
                    <strong>{q.displayName}</strong>
                    <ChatMessageText text={q.text} />
                    <button
                      type="button"
                      className="button button-small button-ghost"
                      onClick={() =>
                        void moderate({ action: 'answer', messageId: q.id })
                      }
                    >
                      Mark answered
                    </button>
                  </li>
                ))}
              </ol>
            )}
          </details>
        </div>
      ) : null}

      {/* The log region wraps the list: role="log" on the <ol> itself would orphan its items. */}
      <div
        ref={listRef}
        className="chat-messages"
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label="Chat messages"
        tabIndex={0}
        onScroll={onScroll}
      >
        <ol className="chat-message-list">
          {messages.length === 0 && connection !== 'ended' ? (
            <li className="muted chat-empty">No messages yet. Say hello!</li>
          ) : null}
          {messages.map((m) => (
            <ChatItem
              key={m.id}
              message={m}
              mine={m.userId === member?.userId}
              canModerate={canModerate && open}
              onQuestion={() => markQuestion(m.id)}
              onModerate={(command) => void moderate(command)}
            />
          ))}
        </ol>
      </div>
      {unseen > 0 ? (
        <button
          type="button"
          className="button button-small chat-jump"
          onClick={jumpToNewest}
        >
          {unseen} new {unseen === 1 ? 'message' : 'messages'}: jump to the
          newest
        </button>
      ) : null}

      {notice ? (
        <p className="form-error chat-notice" role="alert">
          {notice}{' '}
          <button
            type="button"
            className="button button-small button-ghost"
            onClick={dismissNotice}
          >
            Dismiss
          </button>
        </p>
      ) : null}

      {live && connection !== 'ended' && connection !== 'banned' ? (
        <form className="chat-form" onSubmit={submit}>
          <label htmlFor="chat-input">Message</label>
          <textarea
            id="chat-input"
            name="text"
            rows={2}
            maxLength={MAX_CHARS * 2}
            value={draft}
            aria-describedby="chat-input-help"
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              // Enter sends, Shift+Enter is a new line (as in every chat people know).
              if (
                e.key === 'Enter' &&
                !e.shiftKey &&
                !e.nativeEvent.isComposing
              )
                submit(e)
            }}
          />
          <p id="chat-input-help" className="muted chat-help">
            Enter sends, Shift+Enter adds a line. `code` and ``` blocks show as
            code. {MAX_CHARS - [...draft].length} characters left.
          </p>
          <button type="submit" className="button" disabled={!open}>
            Send
          </button>
        </form>
      ) : null}
    </section>
  )
}

function statusText(connection: string, slowModeSeconds: number) {
  if (connection === 'connecting') return 'Connecting to the chat…'
  if (connection === 'reconnecting')
    return 'Connection lost. Reconnecting to the chat…'
  if (connection === 'ended')
    return 'The chat has ended with the session. It replays with the recording, when there is one.'
  if (connection === 'banned') return 'You were banned from this chat.'
  return slowModeSeconds > 0
    ? `Slow mode: one message every ${slowModeSeconds} seconds.`
    : 'Connected.'
}

function ChatItem({
  message,
  mine,
  canModerate,
  onQuestion,
  onModerate,
}: {
  message: ChatMessage
  mine: boolean
  canModerate: boolean
  onQuestion: () => void
  onModerate: (command: object) => void
}) {
  const time = new Date(message.sentAt).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
  })
  return (
    <li className="chat-message" data-message-id={message.id}>
      <p className="chat-meta">
        <strong>{message.displayName}</strong>{' '}
        <time dateTime={message.sentAt} className="muted">
          {time}
        </time>
        {message.isQuestion ? (
          <span className="chat-badge">
            {message.isAnswered ? 'Answered' : 'Question'}
          </span>
        ) : null}
        {message.isHeld ? (
          <span className="chat-badge">Only you can see this</span>
        ) : null}
      </p>
      <ChatMessageText text={message.text} />
      {(mine && !message.isQuestion) || (canModerate && !mine) ? (
        <p className="chat-actions">
          {mine && !message.isQuestion ? (
            <button type="button" className="chat-action" onClick={onQuestion}>
              Ask as a question
            </button>
          ) : null}
          {canModerate && !mine ? (
            <>
              <button
                type="button"
                className="chat-action"
                onClick={() =>
                  onModerate({ action: 'hide', messageId: message.id })
                }
              >
                Hide
                <span className="visually-hidden">
                  {' '}
                  message from {message.displayName}
                </span>
              </button>
              <button
                type="button"
                className="chat-action"
                onClick={() =>
                  onModerate({
                    action: 'timeout',
                    userId: message.userId,
                    minutes: TIMEOUT_MINUTES,
                  })
                }
              >
                Time out {message.displayName} {TIMEOUT_MINUTES} min
              </button>
              <button
                type="button"
                className="chat-action chat-action-danger"
                onClick={() => {
                  if (
                    window.confirm(
                      `Ban ${message.displayName} from this session?`,
                    )
                  )
                    onModerate({ action: 'ban', userId: message.userId })
                }}
              >
                Ban {message.displayName}
              </button>
            </>
          ) : null}
        </p>
      ) : null}
    </li>
  )
}
