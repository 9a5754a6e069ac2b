import { Component, lazy, Suspense, useEffect, useState } from 'react'
import type { ErrorInfo, ReactNode } from 'react'

export type VideoRole = 'host' | 'presenter' | 'viewer'

export interface VideoStageProps {
  sessionId: string
  roomCode: string
  /** From the database (via the loader); a change makes the room ask for a new token and rejoin. */
  role: VideoRole
  displayName: string
  /** False once the session has ended: the room is left and nothing offers to join. */
  live: boolean
}

// The 100ms SDK and hls.js live only behind this lazy import (`*.client.tsx` modules are empty in
// the server build), so neither reaches the Worker nor the first load of any page.
const VideoRoom = lazy(() => import('./video-room.client'))

/**
 * The room's video region. The server (and the first browser render) draw a placeholder of the
 * same size; after hydration the video room loads and takes its place.
 */
export function VideoStage(props: VideoStageProps) {
  const hydrated = useHydrated()
  const placeholder = <VideoNotice>Loading video…</VideoNotice>
  let content: ReactNode
  if (!props.live) {
    content = <VideoNotice>This session has ended.</VideoNotice>
  } else if (!hydrated) {
    content = placeholder
  } else {
    content = (
      <VideoErrorBoundary>
        <Suspense fallback={placeholder}>
          <VideoRoom {...props} />
        </Suspense>
      </VideoErrorBoundary>
    )
  }
  return (
    <section aria-label="Video" className="video-stage">
      {content}
    </section>
  )
}

/**
 * A message in the video region (loading, unavailable, left…), announced politely, with an
 * optional way forward. Shared with the lazily loaded video code.
 */
export function VideoNotice({
  children,
  onRetry,
  retryLabel = 'Try again',
}: {
  children: ReactNode
  onRetry?: () => void
  retryLabel?: string
}) {
  return (
    <div className="video-notice">
      <p role="status">{children}</p>
      {onRetry ? (
        <button type="button" className="button button-small" onClick={onRetry}>
          {retryLabel}
        </button>
      ) : null}
    </div>
  )
}

function useHydrated() {
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  return hydrated
}

/**
 * A chunk that fails to load (a deploy replaced it, the network dropped) or a render error inside
 * the video code must not take the rest of the room page down with it.
 */
class VideoErrorBoundary extends Component<
  { children: ReactNode },
  { failed: boolean }
> {
  state = { failed: false }

  static getDerivedStateFromError() {
    return { failed: true }
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    // Left for monitoring's global handlers; the page itself stays usable.
    console.warn('video failed to render', error, info.componentStack)
  }

  render() {
    if (!this.state.failed) return this.props.children
    return (
      <VideoNotice
        onRetry={() => window.location.reload()}
        retryLabel="Reload the page"
      >
        Video is not available: the video player could not be loaded.
      </VideoNotice>
    )
  }
}
