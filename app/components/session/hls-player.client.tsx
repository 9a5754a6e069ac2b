import { useEffect, useRef, useState } from 'react'
import { VideoNotice } from './video-stage'

type Phase =
  | { name: 'starting' }
  | { name: 'playing' }
  | { name: 'buffering' }
  | { name: 'muted' } // playing, but the browser allowed autoplay only without sound
  | { name: 'blocked' } // the browser refused to start playback without a click
  | { name: 'failed'; message: string }

const HLS_TYPE = 'application/vnd.apple.mpegurl'
// A fatal network error after hls.js's own retries (a stream still starting, a CDN hiccup): load
// again after 2, 4 and 8 s before giving up.
const MAX_RELOADS = 3
const RELOAD_DELAY_MS = 2_000

/**
 * Plays the session’s HLS stream: natively where the browser can (Safari, iOS, recent Chrome),
 * otherwise with hls.js, downloaded only then.
 */
export default function HlsPlayer({
  url,
  onRetry,
}: {
  url: string
  onRetry: () => void
}) {
  const videoRef = useRef<HTMLVideoElement>(null)
  const [phase, setPhase] = useState<Phase>({ name: 'starting' })

  useEffect(() => {
    const video = videoRef.current
    if (!video) return
    let cancelled = false
    let destroyHls = () => {}
    let reloadTimer: ReturnType<typeof setTimeout> | undefined
    let reloads = 0
    /** Schedules `load` after the next back-off delay; false once the retries are spent. */
    const reloadLater = (load: () => void) => {
      if (reloads >= MAX_RELOADS) return false
      update({ name: 'starting' })
      reloadTimer = setTimeout(load, RELOAD_DELAY_MS * 2 ** reloads)
      reloads += 1
      return true
    }
    const update = (next: Phase) => {
      if (!cancelled) setPhase(next)
    }
    const fail = (message: string) => update({ name: 'failed', message })

    const autoplay = async () => {
      try {
        video.muted = false
        await video.play()
      } catch (error) {
        // An AbortError only means the source changed under play(); nothing to tell anyone.
        if (cancelled || !isNotAllowed(error)) return
        try {
          video.muted = true
          await video.play()
          update({ name: 'muted' })
        } catch (mutedError) {
          if (isNotAllowed(mutedError)) update({ name: 'blocked' })
        }
      }
    }
    let hasPlayed = false
    const onPlaying = () => {
      reloads = 0
      hasPlayed = true
      update(video.muted ? { name: 'muted' } : { name: 'playing' })
    }
    const onWaiting = () =>
      update(hasPlayed ? { name: 'buffering' } : { name: 'starting' })
    const onVolumeChange = () => {
      if (!video.paused) onPlaying()
    }
    video.addEventListener('playing', onPlaying)
    video.addEventListener('waiting', onWaiting)
    video.addEventListener('volumechange', onVolumeChange)

    if (video.canPlayType(HLS_TYPE)) {
      const load = () => {
        video.src = url
        void autoplay()
      }
      const onError = () => {
        if (!reloadLater(load)) fail('the live stream could not be played.')
      }
      video.addEventListener('error', onError)
      load()
      destroyHls = () => video.removeEventListener('error', onError)
    } else {
      loadHls().then(
        ({ default: Hls }) => {
          if (cancelled) return
          if (!Hls.isSupported()) {
            fail('this browser cannot play the live stream.')
            return
          }
          // Long sessions: keep 30 s behind the playhead, not the whole broadcast, in memory.
          const hls = new Hls({ backBufferLength: 30 })
          let recoveredMedia = false
          hls.on(Hls.Events.FRAG_LOADED, () => {
            reloads = 0
          })
          hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
            // Separate audio renditions need the full build (see loadHls): say so where it shows.
            if (data.altAudio) {
              console.warn(
                'This HLS stream has separate audio renditions, which the hls.js light build does not play.',
              )
            }
            void autoplay()
          })
          hls.on(Hls.Events.ERROR, (_event, data) => {
            if (!data.fatal) return
            // Without levels the playlist itself never loaded: load it again, not just segments.
            const reload = () =>
              hls.levels.length ? hls.startLoad() : hls.loadSource(url)
            if (
              data.type === Hls.ErrorTypes.NETWORK_ERROR &&
              reloadLater(reload)
            ) {
              return
            }
            if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recoveredMedia) {
              recoveredMedia = true
              hls.recoverMediaError()
              return
            }
            hls.destroy()
            fail('the live stream could not be played.')
          })
          hls.loadSource(url)
          hls.attachMedia(video)
          destroyHls = () => hls.destroy()
        },
        () => fail('the video player could not be loaded.'),
      )
    }

    return () => {
      cancelled = true
      clearTimeout(reloadTimer)
      destroyHls()
      video.removeEventListener('playing', onPlaying)
      video.removeEventListener('waiting', onWaiting)
      video.removeEventListener('volumechange', onVolumeChange)
      video.pause()
      video.removeAttribute('src')
      video.load()
    }
  }, [url])

  const play = () => {
    const video = videoRef.current
    if (!video) return
    video.muted = false
    video.play().then(
      () => setPhase({ name: 'playing' }),
      () => setPhase({ name: 'blocked' }),
    )
  }
  const unmute = () => {
    const video = videoRef.current
    if (!video) return
    video.muted = false
    setPhase({ name: 'playing' })
  }

  const failed = phase.name === 'failed'
  const showsControls = phase.name === 'playing' || phase.name === 'muted'
  return (
    <div className="hls-player">
      <div className="video-frame" hidden={failed}>
        <video
          ref={videoRef}
          className="video-element video-contain"
          aria-label="Live stream"
          playsInline
          controls={showsControls}
        />
        {phase.name === 'starting' || phase.name === 'buffering' ? (
          <p className="video-overlay" role="status">
            {phase.name === 'starting'
              ? 'Connecting to the live stream…'
              : 'Buffering…'}
          </p>
        ) : null}
        {phase.name === 'blocked' ? (
          <div className="video-overlay">
            <button type="button" className="button" onClick={play}>
              Play the live stream
            </button>
          </div>
        ) : null}
      </div>
      {phase.name === 'muted' ? (
        <div className="video-controls">
          <button
            type="button"
            className="button button-small"
            onClick={unmute}
          >
            Turn on sound
          </button>
        </div>
      ) : null}
      {failed ? (
        <VideoNotice onRetry={onRetry}>
          Video is not available: {phase.message}
        </VideoNotice>
      ) : null}
    </div>
  )
}

/**
 * hls.js's light build: everything but alternate audio renditions, subtitles, DRM and CMCD, none
 * of which 100ms's HLS output uses (audio is muxed with the video), at two thirds of the size.
 */
function loadHls(): Promise<typeof import('hls.js')> {
  // @ts-expect-error hls.js ships types for its full build only; the light build has the same API.
  return import('hls.js/light')
}

function isNotAllowed(error: unknown) {
  return error instanceof DOMException && error.name === 'NotAllowedError'
}
