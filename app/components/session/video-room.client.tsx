import { lazy, Suspense, useCallback, useEffect, useState } from 'react'
import { VideoNotice } from './video-stage'
import type { VideoRole, VideoStageProps } from './video-stage'

// Two separate chunks: an HLS viewer never downloads the 100ms SDK, a WebRTC participant never
// downloads hls.js (and hls-player.client imports hls.js itself only when the browser needs it).
const WebRtcRoom = lazy(() => import('./webrtc-room.client'))
const HlsPlayer = lazy(() => import('./hls-player.client'))

/** What POST /api/sessions/:id/token answers (SPEC §6). */
export interface JoinGrant {
  token: string
  role: VideoRole
  useHls: boolean
  hlsUrl?: string | null
}

type GrantState =
  | { status: 'loading' }
  | { status: 'ready'; grant: JoinGrant }
  | { status: 'failed'; message: string; canRetry: boolean }

/**
 * Asks the server how this person joins (a 100ms token for the role the database holds, or the
 * HLS playlist), then shows the matching player. Asks again whenever the role changes.
 */
export default function VideoRoom({
  sessionId,
  roomCode,
  role,
  displayName,
}: VideoStageProps) {
  const [attempt, setAttempt] = useState(0)
  const [state, setState] = useState<GrantState>({ status: 'loading' })
  const retry = useCallback(() => setAttempt((n) => n + 1), [])

  useEffect(() => {
    const controller = new AbortController()
    setState({ status: 'loading' })
    requestGrant(sessionId, roomCode, controller.signal).then((next) => {
      if (!controller.signal.aborted) setState(next)
    })
    return () => controller.abort()
    // `role` is not sent, but a new role needs a new token: the server reads it from the database.
  }, [sessionId, roomCode, role, attempt])

  if (state.status === 'loading') {
    return <VideoNotice>Getting the video ready…</VideoNotice>
  }
  if (state.status === 'failed') {
    return (
      <VideoNotice onRetry={state.canRetry ? retry : undefined}>
        Video is not available: {state.message}
      </VideoNotice>
    )
  }
  const { grant } = state
  const fallback = <VideoNotice>Loading the player…</VideoNotice>
  if (grant.useHls && grant.hlsUrl) {
    return (
      <Suspense fallback={fallback}>
        <HlsPlayer key={attempt} url={grant.hlsUrl} onRetry={retry} />
      </Suspense>
    )
  }
  return (
    <Suspense fallback={fallback}>
      <WebRtcRoom
        // A new token (new role, or a retry) is a new 100ms room instance.
        key={`${grant.role}:${attempt}`}
        token={grant.token}
        role={grant.role}
        displayName={displayName}
        onRetry={retry}
      />
    </Suspense>
  )
}

/** Never rejects: every failure becomes a message a person can read. */
async function requestGrant(
  sessionId: string,
  roomCode: string,
  signal: AbortSignal,
): Promise<GrantState> {
  let response: Response
  try {
    response = await fetch(
      `/api/sessions/${encodeURIComponent(sessionId)}/token`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ roomCode }),
        signal,
      },
    )
  } catch {
    return {
      status: 'failed',
      message: 'could not reach Kulti. Check your connection and try again.',
      canRetry: true,
    }
  }
  const body: unknown = await response.json().catch(() => null)
  if (response.ok && isJoinGrant(body)) return { status: 'ready', grant: body }
  const error = readError(body)
  if (!error) {
    return {
      status: 'failed',
      message: response.ok
        ? 'the server sent an answer this page does not understand. Reload the page to try again.'
        : `the server answered with an error (${response.status}).`,
      canRetry: !response.ok,
    }
  }
  return {
    status: 'failed',
    message: error.message,
    // Trying again will not configure 100ms, revive an ended session or sign anyone in.
    canRetry:
      response.status === 429 ||
      (response.status >= 500 && error.code !== 'video_not_configured'),
  }
}

function isJoinGrant(body: unknown): body is JoinGrant {
  if (typeof body !== 'object' || body === null) return false
  const grant = body as Record<string, unknown>
  return (
    typeof grant.token === 'string' &&
    (grant.role === 'host' ||
      grant.role === 'presenter' ||
      grant.role === 'viewer') &&
    typeof grant.useHls === 'boolean' &&
    (grant.hlsUrl === null ||
      grant.hlsUrl === undefined ||
      typeof grant.hlsUrl === 'string')
  )
}

function readError(body: unknown): { code: string; message: string } | null {
  if (typeof body !== 'object' || body === null) return null
  const error = (body as { error?: unknown }).error
  if (typeof error !== 'object' || error === null) return null
  const { code, message } = error as Record<string, unknown>
  if (typeof message !== 'string' || !message) return null
  return { code: typeof code === 'string' ? code : '', message }
}
