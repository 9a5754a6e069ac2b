import { Component, lazy, Suspense } from 'react'
import type { ErrorInfo, ReactNode } from 'react'

// The player (and hls.js behind it) is a lazy chunk, fetched when someone presses Play: the
// list itself stays small (scripts/check.mjs holds /recordings to its budget without it).
const Player = lazy(() => import('./recording-player.client'))

/** The inline player under a recording, after Play. */
export function RecordingPlayer({ id, title }: { id: string; title: string }) {
  return (
    <div className="recording-player">
      <PlayerErrorBoundary>
        <Suspense
          fallback={
            <p className="muted" role="status">
              Loading the player…
            </p>
          }
        >
          <Player id={id} title={title} />
        </Suspense>
      </PlayerErrorBoundary>
    </div>
  )
}

/** A chunk that fails to load (a deploy replaced it, the network dropped) leaves the list usable. */
class PlayerErrorBoundary extends Component<
  { children: ReactNode },
  { failed: boolean }
> {
  state = { failed: false }

  static getDerivedStateFromError() {
    return { failed: true }
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.warn(
      'recording player failed to render',
      error,
      info.componentStack,
    )
  }

  render() {
    if (!this.state.failed) return this.props.children
    return (
      <p className="form-error" role="alert">
        The player could not be loaded.{' '}
        <button
          type="button"
          className="button button-small"
          onClick={() => window.location.reload()}
        >
          Reload the page
        </button>
      </p>
    )
  }
}
