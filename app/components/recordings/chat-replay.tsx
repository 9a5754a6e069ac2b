import {
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type RefObject,
} from 'react'
import { ChatMessageText } from '../chat/chat-message-text'

/** One message of `GET /api/recordings/:id/chat` (ReplayMessage in app/models/chat.server.ts). */
interface ReplayMessage {
  id: number
  displayName: string
  text: string
  /** Milliseconds after the recording started. */
  offsetMs: number
}

type Replay =
  | { name: 'loading' }
  | { name: 'ready'; messages: ReplayMessage[] }
  | { name: 'failed' }

// The pane shows a screenful, not the whole chat: a long session's thousands of messages stay data.
const SHOWN = 50

/**
 * The chat of a recording's session, replayed beside its video (SPEC §2a): the messages sent up to
 * the video's current time, the newest at the bottom, following play and seeking.
 */
export function ChatReplay({
  recordingId,
  videoRef,
}: {
  recordingId: string
  videoRef: RefObject<HTMLVideoElement>
}) {
  const headingId = useId()
  const [replay, setReplay] = useState<Replay>({ name: 'loading' })
  // How many messages (in offset order) the video has reached.
  const [reached, setReached] = useState(0)
  const listRef = useRef<HTMLOListElement>(null)
  const isAtBottom = useRef(true)

  useEffect(() => {
    const controller = new AbortController()
    void replayOf(recordingId, controller.signal).then((messages) => {
      if (!controller.signal.aborted)
        setReplay(messages ? { name: 'ready', messages } : { name: 'failed' })
    })
    return () => controller.abort()
  }, [recordingId])

  const messages = replay.name === 'ready' ? replay.messages : null
  useEffect(() => {
    const video = videoRef.current
    if (!video || !messages) return
    // Called about four times a second while playing: React skips the render when the count is unchanged.
    const follow = () =>
      setReached(countReached(messages, video.currentTime * 1000))
    follow()
    video.addEventListener('timeupdate', follow)
    video.addEventListener('seeked', follow)
    return () => {
      video.removeEventListener('timeupdate', follow)
      video.removeEventListener('seeked', follow)
    }
  }, [videoRef, messages])

  // Follow the newest message, unless the reader scrolled up to read an older one.
  useLayoutEffect(() => {
    const list = listRef.current
    if (list && isAtBottom.current) list.scrollTop = list.scrollHeight
  }, [reached])

  const shown = messages?.slice(Math.max(0, reached - SHOWN), reached) ?? []
  return (
    <section className="chat-replay" aria-labelledby={headingId}>
      <h3 id={headingId}>Chat replay</h3>
      {replay.name === 'loading' ? (
        <p className="muted" role="status">
          Getting the chat…
        </p>
      ) : replay.name === 'failed' ? (
        <p className="muted" role="status">
          The chat could not be loaded. Reload the page to try again.
        </p>
      ) : replay.messages.length === 0 ? (
        <p className="muted">No chat was sent during this recording.</p>
      ) : (
        <>
          {reached === 0 ? (
            <p className="muted">
              Messages appear here as the video reaches them.
            </p>
          ) : (
            /*
              Not a live region (aria-live="off", the list's default, said out loud): while the
              video plays, messages arrive at the pace they were typed and a seek adds dozens at
              once, which would talk over the video. The list is one Tab stop (it scrolls), read
              at the reader's pace.
            */
            <ol
              ref={listRef}
              className="chat-replay-list"
              aria-labelledby={headingId}
              aria-live="off"
              tabIndex={0}
              onScroll={(event) => {
                const list = event.currentTarget
                isAtBottom.current =
                  list.scrollHeight - list.scrollTop - list.clientHeight < 24
              }}
            >
              {shown.map((message) => (
                <li key={message.id} className="chat-replay-message">
                  <p className="chat-replay-meta">
                    <strong>{message.displayName}</strong>{' '}
                    <span className="muted">
                      {formatVideoTime(message.offsetMs)}
                    </span>
                  </p>
                  <ChatMessageText text={message.text} />
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  )
}

/** How many of `messages` (in offset order) were sent at or before `timeMs` into the video. */
function countReached(messages: ReplayMessage[], timeMs: number) {
  let low = 0
  let high = messages.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (messages[middle]!.offsetMs <= timeMs) low = middle + 1
    else high = middle
  }
  return low
}

/** 83_000 → "1:23", 3_723_000 → "1:02:03": where in the video a message was sent. */
function formatVideoTime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const seconds = String(total % 60).padStart(2, '0')
  const minutes = Math.floor(total / 60) % 60
  const hours = Math.floor(total / 3600)
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`
}

/** GET /api/recordings/:id/chat, in offset order; null when it cannot be had. */
async function replayOf(
  id: string,
  signal: AbortSignal,
): Promise<ReplayMessage[] | null> {
  try {
    const response = await fetch(
      `/api/recordings/${encodeURIComponent(id)}/chat`,
      { headers: { Accept: 'application/json' }, signal },
    )
    if (!response.ok) return null
    const body = (await response.json()) as { messages?: ReplayMessage[] }
    if (!Array.isArray(body.messages)) return null
    // Stored in id order; offsets follow it, but a sort makes the binary search safe regardless.
    return [...body.messages].sort(
      (a, b) => a.offsetMs - b.offsetMs || a.id - b.id,
    )
  } catch {
    return null
  }
}
