import type { RecordingView } from '../../models/recordings.server'

// What the /recordings loader sends: the model's RecordingView, which is already plain JSON (strings
// and numbers), so the page and the model share one definition. A type-only import: nothing of the
// model reaches the browser.
export type { RecordingStatus } from '../../models/recordings.server'
export type RecordingItem = RecordingView

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
