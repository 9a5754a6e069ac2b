import {
  DeviceType,
  HMSLogLevel,
  HMSNotificationTypes,
  HMSReactiveStore,
  HMSRoomProvider,
  HMSRoomState,
  selectConnectionQualityByPeerID,
  selectIsAllowedToPreviewMedia,
  selectIsAllowedToPublish,
  selectIsInPreview,
  selectIsLocalAudioEnabled,
  selectIsLocalScreenShared,
  selectIsLocalVideoEnabled,
  selectIsPeerAudioEnabled,
  selectLocalPeerID,
  selectLocalVideoTrackID,
  selectPeerCount,
  selectPeers,
  selectPeersScreenSharing,
  selectRoomState,
  selectScreenShareByPeerID,
  selectVideoTrackByID,
  useAutoplayError,
  useDevices,
  useHMSActions,
  useHMSStore,
  useHMSVanillaNotifications,
  useHMSVanillaStore,
} from '@100mslive/react-sdk'
import type {
  HMSConfig,
  HMSNotificationInCallback,
  HMSPeer,
  HMSScreenShareConfig,
} from '@100mslive/react-sdk'
import { useEffect, useId, useRef, useState } from 'react'
import type { ReactNode } from 'react'
import { VideoNotice } from './video-stage'
import type { VideoRole } from './video-stage'
import { useVideoMetrics } from './video-metrics.client'

// HMSRoomProvider reads `process.env.REACT_SDK_VERSION` when it renders (nothing else in the SDK
// touches `process` outside Node). Defined here, the SDK needs no bundler-wide `process` polyfill,
// which would otherwise land in the first load of every page.
globalThis.process ??= { env: {} } as unknown as NodeJS.Process

/** Tiles on the stage at once: the host and up to five presenters (SPEC §2). */
const MAX_TILES = 6
/** People listed in the call strip; a big audience is summarised after that. */
const MAX_LISTED_PEOPLE = 24
/**
 * Past this, a person is better served by a message and a button than by a spinner (the SDK can
 * leave join() pending after a failed connection).
 */
const CONNECT_TIMEOUT_MS = 20_000
const COULD_NOT_CONNECT = 'could not connect to the video service.'

/**
 * Screen share settings the SDK lets the client choose (docs/decisions/012-screen-share-quality.md).
 * Resolution, frame rate and bitrate come from the role's publish params in the 100ms template.
 */
const SCREEN_SHARE: HMSScreenShareConfig = {
  // Most people share their editor or terminal: a window is sharper than a scaled-down monitor
  // and shows no notifications from other apps. The picker still offers tabs and screens.
  displaySurface: 'window',
  // Tab audio is offered (videoOnly is false); whole-system audio would send the room back to itself.
  systemAudio: 'exclude',
  selfBrowserSurface: 'exclude',
  surfaceSwitching: 'include',
}
// Not an SDK option: set on the captured track so the encoder keeps resolution over frame rate.
const SCREEN_CONTENT_HINT = 'text'

const ROLE_LABELS: Record<string, string> = {
  host: 'Host',
  presenter: 'Presenter',
  viewer: 'Viewer',
}

const WATCHED_NOTIFICATIONS = [
  HMSNotificationTypes.ERROR,
  HMSNotificationTypes.ROOM_ENDED,
  HMSNotificationTypes.REMOVED_FROM_ROOM,
  HMSNotificationTypes.RECONNECTING,
  HMSNotificationTypes.RECONNECTED,
]

interface WebRtcRoomProps {
  token: string
  role: VideoRole
  displayName: string
  /** Start over with a fresh token (after a failure, or to rejoin after leaving). */
  onRetry: () => void
}

/**
 * One 100ms room instance for one token: a pre-join check of camera and microphone for the host
 * and presenters, a straight join for viewers, then the stage, the controls and the people.
 */
export default function WebRtcRoom(props: WebRtcRoomProps) {
  // Our own instance rather than the provider's: the provider would leave on unmount only, and
  // we need to own the order of join and leave (React's development double-mount included).
  const [hms] = useState(() => {
    const instance = new HMSReactiveStore()
    instance.triggerOnSubscribe()
    return instance
  })
  return (
    <HMSRoomProvider
      actions={hms.getActions()}
      store={hms.getStore()}
      notifications={hms.getNotifications()}
    >
      <Call {...props} />
    </HMSRoomProvider>
  )
}

type Ending =
  | { kind: 'failed'; message: string }
  | { kind: 'left' }
  | { kind: 'ended' }
  | { kind: 'removed' }

function Call({ token, role, displayName, onRetry }: WebRtcRoomProps) {
  useVideoMetrics()
  const actions = useHMSActions()
  const store = useHMSVanillaStore()
  const roomState = useHMSStore(selectRoomState)
  const [ending, setEnding] = useState<Ending | null>(null)
  const [joining, setJoining] = useState(false)
  const [reconnecting, setReconnecting] = useState(false)
  const [deviceProblem, setDeviceProblem] = useState<string | null>(null)
  const publishes = role !== 'viewer'
  // The name is read when joining; a later change (a revalidated loader) must not rejoin.
  const nameRef = useRef(displayName)
  nameRef.current = displayName

  // Until the first join succeeds, any connection error means the join failed: the SDK does not
  // always reject join() then (offline, it reports the error and keeps the promise pending).
  const joinedRef = useRef(false)
  useEffect(() => {
    if (roomState === HMSRoomState.Connected) joinedRef.current = true
  }, [roomState])

  const fail = (error: unknown) =>
    setEnding((current) =>
      current ? current : { kind: 'failed', message: describeFailure(error) },
    )
  // Once per room, and not for a room that never connected (the SDK only logs a warning then).
  const leftRef = useRef(false)
  const leaveIfStarted = () => {
    if (leftRef.current) return
    if (store.getState(selectRoomState) === HMSRoomState.Disconnected) return
    leftRef.current = true
    void actions.leave()
  }

  useEffect(() => {
    actions.setLogLevel(HMSLogLevel.WARN)
    let active = true
    let started = false
    // Deferred a tick so that React's development double-mount never starts two connections.
    const timer = setTimeout(() => {
      started = true
      const config: HMSConfig = {
        userName: nameRef.current,
        authToken: token,
        rememberDeviceSelection: true,
      }
      // Everyone connects through preview(), which reports an unreachable 100ms at once (join()
      // alone may not). Presenters then choose their devices; viewers, who publish nothing, join
      // on the connection the preview opened.
      const start = publishes
        ? actions.preview(config)
        : actions
            .preview({
              ...config,
              settings: { isAudioMuted: true, isVideoMuted: true },
            })
            .then(() => (active ? actions.join(config) : undefined))
      within(start, CONNECT_TIMEOUT_MS).catch((error: unknown) => {
        if (!active) return
        fail(error)
        leaveIfStarted()
      })
    }, 0)
    return () => {
      active = false
      clearTimeout(timer)
      if (started) leaveIfStarted()
    }
    // One connection per mounted room: the parent remounts this component for a new token.
  }, [actions, token, publishes])

  // Subscribed rather than read from useHMSNotifications, which keeps only the latest one: an
  // error and a reconnect in the same tick must both count.
  const notifications = useHMSVanillaNotifications()
  const onNotification = (
    notification: HMSNotificationInCallback<typeof WATCHED_NOTIFICATIONS>,
  ) => {
    switch (notification.type) {
      case HMSNotificationTypes.ERROR: {
        const error = notification.data
        if (error.isTerminal && joinedRef.current) {
          setEnding(
            (current) =>
              current ?? {
                kind: 'failed',
                message: 'the connection to the video service was lost.',
              },
          )
        } else if (
          (error.isTerminal || isConnectionError(error.code)) &&
          !joinedRef.current
        ) {
          fail(error)
          leaveIfStarted()
        } else if (!isScreenError(error)) {
          const problem = describeDeviceProblem(error.code)
          if (problem) setDeviceProblem(problem)
        }
        break
      }
      case HMSNotificationTypes.ROOM_ENDED:
        setEnding({ kind: 'ended' })
        break
      case HMSNotificationTypes.REMOVED_FROM_ROOM:
        setEnding({ kind: 'removed' })
        break
      case HMSNotificationTypes.RECONNECTING:
        setReconnecting(true)
        break
      case HMSNotificationTypes.RECONNECTED:
        setReconnecting(false)
        break
    }
  }
  const onNotificationRef = useRef(onNotification)
  onNotificationRef.current = onNotification
  useEffect(
    () =>
      notifications?.onNotification(
        (notification) => onNotificationRef.current(notification),
        WATCHED_NOTIFICATIONS,
      ),
    [notifications],
  )

  const join = () => {
    setJoining(true)
    const config: HMSConfig = {
      userName: nameRef.current,
      authToken: token,
      rememberDeviceSelection: true,
    }
    within(actions.join(config), CONNECT_TIMEOUT_MS)
      .catch((error: unknown) => {
        fail(error)
        leaveIfStarted()
      })
      .finally(() => setJoining(false))
  }

  const leave = () => {
    setEnding({ kind: 'left' })
    leaveIfStarted()
  }

  if (ending) return <CallEnded ending={ending} onRetry={onRetry} />
  if (roomState === HMSRoomState.Failed) {
    return (
      <CallEnded
        ending={{ kind: 'failed', message: COULD_NOT_CONNECT }}
        onRetry={onRetry}
      />
    )
  }
  const problem = deviceProblem ? (
    <p className="video-status video-status-warning" role="status">
      {deviceProblem}
    </p>
  ) : null
  if (
    roomState === HMSRoomState.Connected ||
    roomState === HMSRoomState.Reconnecting
  ) {
    return (
      <div className="video-call">
        {reconnecting || roomState === HMSRoomState.Reconnecting ? (
          <p className="video-status" role="status">
            Reconnecting to the video…
          </p>
        ) : null}
        {problem}
        <Stage />
        <CallControls publishes={publishes} onLeave={leave} />
        <People />
      </div>
    )
  }
  if (publishes && roomState === HMSRoomState.Preview) {
    return (
      <Preview joining={joining} onJoin={join}>
        {problem}
      </Preview>
    )
  }
  return (
    <VideoNotice>
      {publishes && !joining
        ? 'Starting your camera and microphone…'
        : 'Connecting to the video…'}
    </VideoNotice>
  )
}

function CallEnded({
  ending,
  onRetry,
}: {
  ending: Ending
  onRetry: () => void
}) {
  switch (ending.kind) {
    case 'failed':
      return (
        <VideoNotice onRetry={onRetry}>
          Video is not available: {ending.message}
        </VideoNotice>
      )
    case 'left':
      return (
        <VideoNotice onRetry={onRetry} retryLabel="Rejoin the video">
          You left the video. The rest of the room is still here.
        </VideoNotice>
      )
    case 'ended':
      return <VideoNotice>The host has ended the video.</VideoNotice>
    case 'removed':
      return <VideoNotice>You were removed from the video.</VideoNotice>
  }
}

/** Camera and microphone before joining: what others will see and hear, and which devices. */
function Preview({
  joining,
  onJoin,
  children,
}: {
  joining: boolean
  onJoin: () => void
  children?: ReactNode
}) {
  const videoTrackId = useHMSStore(selectLocalVideoTrackID)
  const videoOn = useHMSStore(selectIsLocalVideoEnabled)
  const headingId = useId()
  return (
    <div className="video-preview" aria-labelledby={headingId} role="group">
      <div className="video-frame">
        <TrackVideo trackId={videoOn ? videoTrackId : undefined} mirror />
        {videoOn ? null : <p className="video-overlay">Your camera is off</p>}
      </div>
      <div className="video-preview-panel">
        <h2 id={headingId} className="video-preview-title">
          Ready to join?
        </h2>
        <p className="muted">
          Check your camera and microphone. Everyone in the room will see and
          hear you once you join.
        </p>
        {children}
        <div className="video-preview-toggles">
          <MediaToggles />
        </div>
        <DeviceSettings />
        <button
          type="button"
          className="button"
          onClick={onJoin}
          disabled={joining}
        >
          {joining ? 'Joining…' : 'Join the video'}
        </button>
      </div>
    </div>
  )
}

type Tile = { key: string; kind: 'camera' | 'screen'; peer: HMSPeer }

/** The video grid, with one tile on the stage: the pinned one, else a shared screen. */
function Stage() {
  const peers = useHMSStore(selectPeers)
  const sharers = useHMSStore(selectPeersScreenSharing)
  const [pinned, setPinned] = useState<string | null>(null)

  const tiles: Tile[] = [
    ...sharers.map((peer) => ({
      key: `screen:${peer.id}`,
      kind: 'screen' as const,
      peer,
    })),
    ...peers
      .filter(isOnCamera)
      .sort(byRole)
      .slice(0, MAX_TILES)
      .map((peer) => ({
        key: `camera:${peer.id}`,
        kind: 'camera' as const,
        peer,
      })),
  ]
  const spotlight =
    tiles.find((tile) => tile.key === pinned) ??
    tiles.find((tile) => tile.kind === 'screen')
  const grid = tiles.filter((tile) => tile !== spotlight)
  const togglePin = (key: string) =>
    setPinned((current) => (current === key ? null : key))

  if (tiles.length === 0) {
    return (
      <p className="video-empty" role="status">
        Nobody is on camera yet. The stage fills up when the host or a presenter
        joins.
      </p>
    )
  }
  return (
    <div className="video-layout" data-spotlight={spotlight ? 'yes' : 'no'}>
      {spotlight ? (
        <div className="video-spotlight">
          <VideoTile
            tile={spotlight}
            pinned={spotlight.key === pinned}
            onTogglePin={togglePin}
            large
          />
        </div>
      ) : null}
      {grid.length ? (
        <ul className="video-grid" data-count={Math.min(grid.length, 6)}>
          {grid.map((tile) => (
            <li key={tile.key}>
              <VideoTile
                tile={tile}
                pinned={tile.key === pinned}
                onTogglePin={togglePin}
              />
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}

function VideoTile({
  tile,
  pinned,
  onTogglePin,
  large = false,
}: {
  tile: Tile
  pinned: boolean
  onTogglePin: (key: string) => void
  large?: boolean
}) {
  const { peer, kind } = tile
  const screen = useHMSStore(
    selectScreenShareByPeerID(kind === 'screen' ? peer.id : undefined),
  )
  const camera = useHMSStore(
    selectVideoTrackByID(kind === 'camera' ? peer.videoTrack : undefined),
  )
  const audioOn = useHMSStore(selectIsPeerAudioEnabled(peer.id))
  const figureRef = useRef<HTMLElement>(null)
  const track = kind === 'screen' ? screen : camera
  const videoOn = Boolean(track?.enabled)
  const label = tileLabel(peer, kind)

  const fullscreen = () => {
    const figure = figureRef.current
    if (!figure) return
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(() => {})
    } else if (figure.requestFullscreen) {
      figure.requestFullscreen().catch(() => {})
    }
  }

  return (
    <figure
      ref={figureRef}
      className={`video-tile${large ? ' video-tile-large' : ''}`}
      data-kind={kind}
      aria-label={label}
    >
      <TrackVideo
        trackId={videoOn ? track?.id : undefined}
        mirror={peer.isLocal && kind === 'camera'}
        contain={kind === 'screen'}
      />
      {videoOn ? null : (
        <span className="video-tile-initial" aria-hidden="true">
          {initialOf(peer.name)}
        </span>
      )}
      <figcaption className="video-tile-caption">
        <span className="video-tile-name">{label}</span>
        {kind === 'camera' && !audioOn ? (
          <span className="video-tile-muted">muted</span>
        ) : null}
        {kind === 'camera' && !videoOn ? (
          <span className="visually-hidden">, camera off</span>
        ) : null}
      </figcaption>
      <div className="video-tile-actions">
        <button
          type="button"
          className="button button-small button-ghost"
          aria-pressed={pinned}
          aria-label={`Pin ${label}`}
          onClick={() => onTogglePin(tile.key)}
        >
          Pin
        </button>
        {large ? (
          <button
            type="button"
            className="button button-small button-ghost"
            aria-label={`Full screen: ${label}`}
            onClick={fullscreen}
          >
            Full screen
          </button>
        ) : null}
      </div>
    </figure>
  )
}

/** A <video> the SDK draws one track into; sound plays separately, through the SDK. */
function TrackVideo({
  trackId,
  mirror = false,
  contain = false,
}: {
  trackId?: string
  mirror?: boolean
  contain?: boolean
}) {
  const actions = useHMSActions()
  const ref = useRef<HTMLVideoElement>(null)
  useEffect(() => {
    const video = ref.current
    if (!video || !trackId) return
    // Attaching also subscribes; detaching unsubscribes, so hidden tiles cost no bandwidth.
    actions.attachVideo(trackId, video).catch(() => {})
    return () => {
      actions.detachVideo(trackId, video).catch(() => {})
    }
  }, [actions, trackId])
  let className = 'video-element'
  if (mirror) className += ' video-mirrored'
  if (contain) className += ' video-contain'
  return (
    <video
      ref={ref}
      className={className}
      autoPlay
      muted
      playsInline
      aria-hidden="true"
      hidden={!trackId}
    />
  )
}

/** What the local role may send; in the preview, what it may preview (as the SDK's own hooks do). */
function useAllowedMedia() {
  const inPreview = useHMSStore(selectIsInPreview)
  return useHMSStore(
    inPreview ? selectIsAllowedToPreviewMedia : selectIsAllowedToPublish,
  )
}

/** Microphone and camera on/off: the same buttons before and after joining. */
function MediaToggles() {
  const actions = useHMSActions()
  const allowed = useAllowedMedia()
  const audioOn = useHMSStore(selectIsLocalAudioEnabled)
  const videoOn = useHMSStore(selectIsLocalVideoEnabled)
  const [message, setMessage] = useState<string | null>(null)
  const toggle = (what: 'microphone' | 'camera', on: boolean) => {
    setMessage(null)
    const change =
      what === 'microphone'
        ? actions.setLocalAudioEnabled(on)
        : actions.setLocalVideoEnabled(on)
    change.catch((error: unknown) =>
      setMessage(
        `Could not turn ${on ? 'on' : 'off'} your ${what}. ${
          describeDeviceProblem(codeOf(error)) ?? 'Please try again.'
        }`,
      ),
    )
  }
  return (
    <>
      {allowed?.audio ? (
        <button
          type="button"
          className="button button-small video-toggle video-toggle-media"
          aria-pressed={audioOn}
          onClick={() => toggle('microphone', !audioOn)}
        >
          Microphone
        </button>
      ) : null}
      {allowed?.video ? (
        <button
          type="button"
          className="button button-small video-toggle video-toggle-media"
          aria-pressed={videoOn}
          onClick={() => toggle('camera', !videoOn)}
        >
          Camera
        </button>
      ) : null}
      {message ? (
        <p className="video-status video-status-warning" role="status">
          {message}
        </p>
      ) : null}
    </>
  )
}

/** Device choice (microphone, camera, speakers where the browser lets pages pick them). */
function DeviceSettings() {
  const [message, setMessage] = useState<string | null>(null)
  const { allDevices, selectedDeviceIDs, updateDevice } = useDevices(() =>
    setMessage('That device could not be used. Choose another one.'),
  )
  const choose = (deviceType: DeviceType, deviceId: string) => {
    setMessage(null)
    // useDevices reports failures through the handler above as well; never let one go unhandled.
    updateDevice({ deviceType, deviceId }).catch(() => {})
  }
  const selects: Array<{ type: DeviceType; label: string }> = [
    { type: DeviceType.audioInput, label: 'Microphone' },
    { type: DeviceType.videoInput, label: 'Camera' },
    { type: DeviceType.audioOutput, label: 'Speakers' },
  ]
  const none = selects.every(({ type }) => !allDevices[type]?.length)
  return (
    <div className="video-devices">
      {none ? (
        <p className="muted">
          No camera or microphone found. Connect one, or allow this site to use
          them in your browser’s settings.
        </p>
      ) : null}
      {selects.map(({ type, label }) => (
        <DeviceSelect
          key={type}
          label={label}
          devices={allDevices[type] ?? []}
          value={selectedDeviceIDs[type]}
          onChange={(deviceId) => choose(type, deviceId)}
        />
      ))}
      {message ? (
        <p className="video-status video-status-warning" role="status">
          {message}
        </p>
      ) : null}
    </div>
  )
}

function DeviceSelect({
  label,
  devices,
  value,
  onChange,
}: {
  label: string
  devices: MediaDeviceInfo[]
  value?: string
  onChange: (deviceId: string) => void
}) {
  const id = useId()
  if (devices.length === 0) return null
  return (
    <div className="field video-device">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value ?? ''}
        onChange={(event) => onChange(event.target.value)}
      >
        {value ? null : <option value="">Default</option>}
        {devices.map((device, index) => (
          <option key={device.deviceId || index} value={device.deviceId}>
            {device.label || `${label} ${index + 1}`}
          </option>
        ))}
      </select>
    </div>
  )
}

/** The bar under the stage: own media and screen for the host and presenters, leave for all. */
function CallControls({
  publishes,
  onLeave,
}: {
  publishes: boolean
  onLeave: () => void
}) {
  const allowed = useAllowedMedia()
  const {
    error: autoplayBlocked,
    unblockAudio,
    resetError,
  } = useAutoplayError()
  const [showDevices, setShowDevices] = useState(false)
  const devicesId = useId()
  const canPublish = publishes && Boolean(allowed?.audio || allowed?.video)
  return (
    <div className="video-controls-wrap">
      <div className="video-controls" role="group" aria-label="Call controls">
        {canPublish ? <MediaToggles /> : null}
        {publishes && allowed?.screen ? <ScreenShareToggle /> : null}
        {canPublish ? (
          <button
            type="button"
            className="button button-small button-ghost"
            aria-expanded={showDevices}
            aria-controls={devicesId}
            onClick={() => setShowDevices((shown) => !shown)}
          >
            Devices
          </button>
        ) : null}
        {autoplayBlocked ? (
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              unblockAudio()
                .then(resetError)
                .catch(() => {})
            }}
          >
            Turn on sound
          </button>
        ) : null}
        <button
          type="button"
          className="button button-small button-danger"
          onClick={onLeave}
        >
          Leave
        </button>
      </div>
      {canPublish ? (
        <div id={devicesId} hidden={!showDevices}>
          {showDevices ? <DeviceSettings /> : null}
        </div>
      ) : null}
    </div>
  )
}

function ScreenShareToggle() {
  const actions = useHMSActions()
  const sharing = useHMSStore(selectIsLocalScreenShared)
  const localPeerId = useHMSStore(selectLocalPeerID)
  const screenTrack = useHMSStore(selectScreenShareByPeerID(localPeerId))
  const [busy, setBusy] = useState(false)
  const [message, setMessage] = useState<string | null>(null)

  // Once the shared screen is a track: tell the encoder it is text (ADR 012).
  const screenTrackId = screenTrack?.id
  useEffect(() => {
    if (!screenTrackId) return
    const native = actions.getNativeTrackById(screenTrackId)
    if (native && native.kind === 'video' && 'contentHint' in native) {
      native.contentHint = SCREEN_CONTENT_HINT
    }
  }, [actions, screenTrackId])

  const toggle = () => {
    setMessage(null)
    setBusy(true)
    actions
      .setScreenShareEnabled(!sharing, sharing ? undefined : SCREEN_SHARE)
      .catch((error: unknown) => {
        // Closing the browser's picker is a choice, not an error.
        if (isPickerDismissed(error)) return
        setMessage(
          codeOf(error) === 3011
            ? 'Could not share your screen: your system does not allow this browser to record the screen.'
            : 'Could not share your screen. Please try again.',
        )
      })
      .finally(() => setBusy(false))
  }
  return (
    <>
      <button
        type="button"
        className="button button-small video-toggle"
        aria-pressed={sharing}
        disabled={busy}
        onClick={toggle}
      >
        Share screen
      </button>
      {message ? (
        <p className="video-status video-status-warning" role="status">
          {message}
        </p>
      ) : null}
    </>
  )
}

/** Who is in the call, with their role and how good their connection is. */
function People() {
  const peers = useHMSStore(selectPeers)
  const total = useHMSStore(selectPeerCount)
  const headingId = useId()
  const listed = [...peers].sort(byRole).slice(0, MAX_LISTED_PEOPLE)
  const more = Math.max(total, peers.length) - listed.length
  return (
    <section className="video-people" aria-labelledby={headingId}>
      <h2 id={headingId} className="visually-hidden">
        In the video ({Math.max(total, peers.length)})
      </h2>
      <ul className="video-people-list">
        {listed.map((peer) => (
          <PersonChip key={peer.id} peer={peer} />
        ))}
        {more > 0 ? (
          <li className="video-person video-person-more">and {more} more</li>
        ) : null}
      </ul>
    </section>
  )
}

function PersonChip({ peer }: { peer: HMSPeer }) {
  const quality = useHMSStore(selectConnectionQualityByPeerID(peer.id))
  const { level, label } = describeQuality(quality?.downlinkQuality)
  return (
    <li className="video-person">
      <span className="video-person-name">
        {peer.name || 'Someone'}
        {peer.isLocal ? ' (you)' : ''}
      </span>
      <span className="video-person-role">{roleLabel(peer.roleName)}</span>
      <span
        className="video-quality"
        data-level={level}
        role="img"
        aria-label={`Connection: ${label}`}
        title={`Connection: ${label}`}
      >
        <span />
        <span />
        <span />
        <span />
      </span>
    </li>
  )
}

// ---------------------------------------------------------------------------------------------

/** Settles like `promise`, or rejects after `ms`; the original's later rejection is handled. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('timed out connecting to the video service')),
      ms,
    )
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

function codeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'number' ? code : undefined
}

function describeFailure(error: unknown): string {
  const code = codeOf(error)
  // MISSING_MEDIADEVICES, MISSING_RTCPEERCONNECTION: an old or locked-down browser.
  if (code === 6010 || code === 6011) {
    return 'this browser cannot make video calls. Try a current Chrome, Edge, Firefox or Safari.'
  }
  return COULD_NOT_CONNECT
}

/** SDK track error codes (3001–3011) as advice; null for anything that is not about devices. */
function describeDeviceProblem(code: number | undefined): string | null {
  switch (code) {
    case 3001:
      return 'Your browser blocked the camera or microphone: allow them for this site (the icon in the address bar), then try again.'
    case 3002:
      return 'No camera or microphone was found.'
    case 3003:
      return 'Another application is using your camera or microphone.'
    case 3011:
      return 'Your system does not let this browser use the camera or microphone (check the privacy settings).'
    default:
      return null
  }
}

/** Signalling (1xxx), API (2xxx), WebRTC (4xxx) and server (5xxx) errors: not a device's. */
function isConnectionError(code: number) {
  return (code >= 1000 && code < 3000) || (code >= 4000 && code < 6000)
}

function isScreenError(error: unknown) {
  const trackType = (error as { trackType?: unknown }).trackType
  return typeof trackType === 'string' && trackType.includes('screen')
}

function isPickerDismissed(error: unknown) {
  const native = (error as { nativeError?: unknown }).nativeError
  return (
    codeOf(error) === 3001 ||
    (native instanceof DOMException && native.name === 'NotAllowedError')
  )
}

function describeQuality(score: number | undefined): {
  level: number
  label: string
} {
  // 100ms scores downlink quality 0 (disconnected) to 5 (excellent); -1 or nothing: not measured.
  if (score === undefined || score < 0) return { level: 0, label: 'unknown' }
  if (score === 0) return { level: 0, label: 'disconnected' }
  if (score >= 5) return { level: 4, label: 'excellent' }
  if (score === 4) return { level: 3, label: 'good' }
  if (score === 3) return { level: 2, label: 'fair' }
  return { level: 1, label: 'poor' }
}

function isOnCamera(peer: HMSPeer) {
  return (
    peer.roleName === 'host' ||
    peer.roleName === 'presenter' ||
    Boolean(peer.videoTrack)
  )
}

const ROLE_ORDER: Record<string, number> = { host: 0, presenter: 1 }
function byRole(a: HMSPeer, b: HMSPeer) {
  return (
    (ROLE_ORDER[a.roleName ?? ''] ?? 2) - (ROLE_ORDER[b.roleName ?? ''] ?? 2)
  )
}

function roleLabel(roleName: string | undefined) {
  if (!roleName) return 'Guest'
  return (
    ROLE_LABELS[roleName] ??
    roleName.charAt(0).toUpperCase() + roleName.slice(1)
  )
}

function tileLabel(peer: HMSPeer, kind: Tile['kind']) {
  const name = peer.name || 'Someone'
  if (kind === 'screen')
    return peer.isLocal ? 'Your screen' : `${name}’s screen`
  return peer.isLocal ? `${name} (you)` : name
}

function initialOf(name: string) {
  return (name.trim().charAt(0) || '?').toUpperCase()
}
