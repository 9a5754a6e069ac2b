import { useEffect, useReducer, useRef } from 'react'
import type {
  ChatMember,
  ChatMessage,
  ServerFrame,
} from '../../models/chat-rules'

export type ChatConnection =
  | 'connecting'
  | 'open'
  | 'reconnecting'
  | 'ended'
  | 'banned'

export interface ChatState {
  connection: ChatConnection
  member: ChatMember | null
  /** In id order, without duplicates. */
  messages: ChatMessage[]
  slowModeSeconds: number
  /** The last refusal or notice to show the reader. */
  notice: string | null
}

type Action =
  | { type: 'frame'; frame: ServerFrame }
  | { type: 'connection'; connection: ChatConnection }
  | { type: 'notice'; notice: string | null }

// A long session's panel keeps the newest messages only: the DOM stays small.
const KEEP = 500

function reduce(state: ChatState, action: Action): ChatState {
  if (action.type === 'connection')
    return { ...state, connection: action.connection }
  if (action.type === 'notice') return { ...state, notice: action.notice }
  const { frame } = action
  switch (frame.type) {
    case 'welcome':
      return {
        ...state,
        connection: 'open',
        member: frame.member,
        slowModeSeconds: frame.slowModeSeconds,
      }
    case 'message': {
      const last = state.messages.at(-1)
      // Ids only grow: anything at or below the newest is a replay or an older open question.
      if (last && frame.message.id <= last.id) {
        if (state.messages.some((m) => m.id === frame.message.id)) return state
        const merged = [...state.messages, frame.message].sort(
          (a, b) => a.id - b.id,
        )
        return { ...state, messages: merged.slice(-KEEP) }
      }
      return {
        ...state,
        messages: [...state.messages, frame.message].slice(-KEEP),
      }
    }
    case 'hidden':
      return {
        ...state,
        messages: state.messages.filter((m) => m.id !== frame.id),
      }
    case 'question':
      return {
        ...state,
        messages: state.messages.map((m) =>
          m.id === frame.id
            ? { ...m, isQuestion: true, isAnswered: frame.isAnswered }
            : m,
        ),
      }
    case 'moderation':
      if (frame.action === 'slow')
        return { ...state, slowModeSeconds: frame.seconds }
      if (
        frame.action === 'moderator' &&
        state.member &&
        frame.userId === state.member.userId
      )
        return {
          ...state,
          member: { ...state.member, isModerator: frame.isModerator },
          notice: frame.isModerator
            ? 'The host made you a moderator.'
            : 'You are no longer a moderator.',
        }
      if (
        frame.action === 'timeout' &&
        state.member &&
        frame.userId === state.member.userId
      )
        return {
          ...state,
          notice: `A moderator timed you out until ${new Date(frame.until).toLocaleTimeString()}.`,
        }
      return state
    case 'ended':
      return { ...state, connection: 'ended' }
    case 'error':
      return {
        ...state,
        connection: frame.code === 'banned' ? 'banned' : state.connection,
        notice: frame.message,
      }
  }
}

/**
 * The session's chat socket: connects, reconnects after a drop with the last id it has (so nothing
 * is missed or repeated), and stops for good when the session ends or the reader is banned.
 */
export function useSessionChat({
  sessionId,
  roomCode,
  enabled,
}: {
  sessionId: string
  roomCode: string
  enabled: boolean
}) {
  const [state, dispatch] = useReducer(reduce, {
    connection: enabled ? 'connecting' : 'ended',
    member: null,
    messages: [],
    slowModeSeconds: 0,
    notice: null,
  })
  const socketRef = useRef<WebSocket | null>(null)
  const lastIdRef = useRef(0)
  lastIdRef.current = state.messages.at(-1)?.id ?? lastIdRef.current

  useEffect(() => {
    if (!enabled) return
    let stopped = false
    let attempt = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const open = () => {
      const url = new URL(
        `/api/sessions/${encodeURIComponent(sessionId)}/chat`,
        window.location.href,
      )
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
      url.searchParams.set('code', roomCode)
      if (lastIdRef.current > 0)
        url.searchParams.set('after', String(lastIdRef.current))
      const socket = new WebSocket(url)
      socketRef.current = socket
      socket.onopen = () => {
        attempt = 0
      }
      socket.onmessage = (event) => {
        try {
          dispatch({
            type: 'frame',
            frame: JSON.parse(String(event.data)) as ServerFrame,
          })
        } catch {
          // A frame we cannot read is skipped; the next one may be fine.
        }
      }
      socket.onclose = (event) => {
        socketRef.current = null
        // 1000 after `ended`, 4003 after a ban: the server said why, and there is no coming back.
        if (stopped || event.code === 4003 || event.code === 1000) {
          if (event.code === 1000 && !stopped)
            dispatch({ type: 'connection', connection: 'ended' })
          return
        }
        dispatch({ type: 'connection', connection: 'reconnecting' })
        attempt += 1
        timer = setTimeout(open, Math.min(30_000, 1000 * 2 ** (attempt - 1)))
      }
    }
    open()
    return () => {
      stopped = true
      clearTimeout(timer)
      socketRef.current?.close(1000)
    }
  }, [enabled, sessionId, roomCode])

  function send(frame: object): boolean {
    const socket = socketRef.current
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      dispatch({
        type: 'notice',
        notice: 'The chat is reconnecting; try again in a moment.',
      })
      return false
    }
    socket.send(JSON.stringify(frame))
    return true
  }

  async function moderate(command: object): Promise<void> {
    const response = await fetch(
      `/api/sessions/${encodeURIComponent(sessionId)}/moderation`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(command),
      },
    ).catch(() => null)
    if (response?.ok) return dispatch({ type: 'notice', notice: null })
    const body = (await response?.json().catch(() => null)) as {
      error?: { message?: string }
    } | null
    dispatch({
      type: 'notice',
      notice:
        body?.error?.message ??
        'Kulti could not be reached. Check your connection and try again.',
    })
  }

  return {
    state,
    sendMessage: (text: string) => send({ type: 'send', text }),
    markQuestion: (id: number) => send({ type: 'question', id }),
    moderate,
    dismissNotice: () => dispatch({ type: 'notice', notice: null }),
  }
}
