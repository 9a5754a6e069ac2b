import {
  HMSRoomState,
  selectConnectionQualityByPeerID,
  selectLocalPeerID,
  selectRoomState,
  useHMSVanillaStore,
} from '@100mslive/react-sdk'
import { useEffect } from 'react'
import { reportVideo } from '../../utils/client-reports.client'

// Often enough to see a call degrade, rarely enough to cost nothing.
const QUALITY_SAMPLE_MS = 30_000

/**
 * The room's video signals for monitoring: how long joining took (connecting → connected), each
 * reconnect, and this person's downlink quality (0–5) every 30 s while connected.
 */
export function useVideoMetrics() {
  const store = useHMSVanillaStore()
  useEffect(() => {
    let connectingSince: number | null = null
    let previous = store.getState(selectRoomState)
    const unsubscribe = store.subscribe((state) => {
      if (state === HMSRoomState.Connecting) connectingSince = performance.now()
      if (state === HMSRoomState.Connected && connectingSince !== null) {
        reportVideo('join', performance.now() - connectingSince)
        connectingSince = null
      }
      if (
        state === HMSRoomState.Reconnecting &&
        previous !== HMSRoomState.Reconnecting
      )
        reportVideo('reconnect', 1)
      previous = state
    }, selectRoomState)
    const sampler = setInterval(() => {
      if (store.getState(selectRoomState) !== HMSRoomState.Connected) return
      const peerId = store.getState(selectLocalPeerID)
      const quality = peerId
        ? store.getState(selectConnectionQualityByPeerID(peerId))
        : undefined
      if (typeof quality?.downlinkQuality === 'number')
        reportVideo('quality', quality.downlinkQuality)
    }, QUALITY_SAMPLE_MS)
    return () => {
      unsubscribe()
      clearInterval(sampler)
    }
  }, [store])
}
