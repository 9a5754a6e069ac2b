// What the /recordings loader sends (RecordingView from app/models/recordings.server.ts,
// serialised): components get data through loaders and know nothing of models.

export type RecordingStatus =
  | 'recording'
  | 'processing'
  | 'completed'
  | 'failed'

export interface RecordingItem {
  id: string
  sessionId: string
  sessionTitle: string
  roomCode: string
  status: RecordingStatus
  startedAt: string | null
  stoppedAt: string | null
  durationSeconds: number | null
  sizeBytes: number | null
  resolution: { width: number; height: number } | null
  format: 'mp4' | 'hls' | null
  failureReason: string | null
  role: 'host' | 'presenter' | 'viewer'
  createdAt: string
}

/** The query the page was loaded with, as submitted (empty: not set). */
export interface RecordingFilter {
  status: string
  role: string
  from: string
  to: string
  q: string
  sort: string
  /** Only when the address named one, so links keep it. */
  limit: string
  cursor: string
}
