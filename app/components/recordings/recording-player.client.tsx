import { useEffect, useRef, useState } from 'react'
import { ChatReplay } from './chat-replay'

type Phase =
  | { name: 'loading' }
  | { name: 'ready'; url: string }
  | { name: 'failed'; message: string }

const HLS_TYPE = 'application/vnd.apple.mpegurl'

/**
 * Plays one recording. It asks Kulti for a fresh presigned URL (they expire, so none is kept in
 * the page), then plays MP4 natively and HLS natively where the browser can, otherwise with
 * hls.js, downloaded only then. The session's chat replays under it, in step with the video.
 */
export default function RecordingPlayerClient({
  id,
  title,
}: {
  id: string
  title: string
}) {
  const videoRef = useRef<HTMLVideoElement>(null)
  const [phase, setPhase] = useState<Phase>({ name: 'loading' })
  const [playbackError, setPlaybackError] = useState(false)

  useEffect(() => {
    const video = videoRef.current
    if (!video) return
    const controller = new AbortController()
    let cancelled = false
    let destroyHls = () => {}
    const fail = (message: string) => {
      if (!cancelled) setPhase({ name: 'failed', message })
    }
    const onError = () => {
      if (!cancelled) setPlaybackError(true)
    }
    video.addEventListener('error', onError)

    void playbackOf(id, controller.signal).then(async (playback) => {
      if (cancelled) return
      if ('error' in playback) return fail(playback.error)
      setPhase({ name: 'ready', url: playback.url })
      if (playback.format === 'hls' && !video.canPlayType(HLS_TYPE)) {
        let Hls: typeof import('hls.js').default
        try {
          Hls = (await loadHls()).default
        } catch {
          return fail('the video player could not be loaded.')
        }
        if (cancelled) return
        if (!Hls.isSupported())
          return fail('this browser cannot play this recording.')
        const hls = new Hls()
        hls.on(Hls.Events.ERROR, (_event, data) => {
          if (data.fatal) onError()
        })
        hls.loadSource(playback.url)
        hls.attachMedia(video)
        destroyHls = () => hls.destroy()
      } else {
        video.src = playback.url
      }
      // The person pressed Play: start, unless the browser wants another click (the controls).
      video.play().catch(() => {})
    })

    return () => {
      cancelled = true
      controller.abort()
      destroyHls()
      video.removeEventListener('error', onError)
      video.pause()
      video.removeAttribute('src')
      video.load()
    }
  }, [id])

  return (
    <div className="recording-player-body">
      <div className="video-frame" hidden={phase.name === 'failed'}>
        <video
          ref={videoRef}
          className="video-element video-contain"
          aria-label={`Recording of ${title}`}
          controls
          playsInline
          preload="metadata"
        />
      </div>
      {phase.name === 'loading' ? (
        <p className="muted" role="status">
          Getting the recording…
        </p>
      ) : null}
      {phase.name === 'failed' ? (
        <p className="form-error" role="alert">
          This recording cannot be played: {phase.message}
        </p>
      ) : null}
      {playbackError && phase.name === 'ready' ? (
        <p className="muted" role="status">
          Your browser could not play this recording here. Download it instead.
        </p>
      ) : null}
      {phase.name === 'ready' ? (
        <p className="recording-actions">
          <a
            href={phase.url}
            download
            className="button button-small button-ghost"
          >
            Download
          </a>
          <span className="muted">The link works for a limited time.</span>
        </p>
      ) : null}
      {/* Fetched alongside the video's URL; pointless once the video cannot play. */}
      {phase.name === 'failed' ? null : (
        <ChatReplay recordingId={id} videoRef={videoRef} />
      )}
    </div>
  )
}

type Playback = { url: string; format: string | null } | { error: string }

/** GET /api/recordings/:id: a fresh presigned URL for a completed recording. */
async function playbackOf(id: string, signal: AbortSignal): Promise<Playback> {
  let response: Response
  try {
    response = await fetch(`/api/recordings/${encodeURIComponent(id)}`, {
      headers: { Accept: 'application/json' },
      signal,
    })
  } catch {
    return {
      error: 'Kulti could not be reached. Check your connection and try again.',
    }
  }
  const body = (await response.json().catch(() => null)) as {
    recording?: { playbackUrl?: string | null; format?: string | null }
    error?: { message?: string }
  } | null
  if (!response.ok)
    return {
      error: body?.error?.message ?? `Kulti answered ${response.status}.`,
    }
  const url = body?.recording?.playbackUrl
  if (!url) return { error: 'it is not ready yet. Try again in a minute.' }
  return { url, format: body?.recording?.format ?? null }
}

/** hls.js's light build, as the room's player uses it (no alternate audio, subtitles or DRM). */
function loadHls(): Promise<typeof import('hls.js')> {
  // @ts-expect-error hls.js ships types for its full build only; the light build has the same API.
  return import('hls.js/light')
}
