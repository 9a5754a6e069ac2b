import { Form, Link } from '@remix-run/react'
import { useEffect, useState } from 'react'
import { formatDateTime } from '../credits/format'
import { SubmitButton } from '../ui/submit-button'
import { formatBytes, formatDuration } from './format'
import { RecordingPlayer } from './recording-player'
import type { RecordingFilter, RecordingItem } from './types'

const STATUS_OPTIONS = [
  ['', 'Any status'],
  ['completed', 'Ready to play'],
  ['processing', 'Processing'],
  ['recording', 'Recording now'],
  ['failed', 'Failed'],
] as const
const ROLE_OPTIONS = [
  ['', 'Hosted or attended'],
  ['host', 'I hosted'],
  ['participant', 'I attended'],
] as const
const SORT_OPTIONS = [
  ['newest', 'Newest first'],
  ['oldest', 'Oldest first'],
  ['longest', 'Longest first'],
] as const
const ROLE_NAMES = {
  host: 'the host',
  presenter: 'a presenter',
  viewer: 'a viewer',
} as const

const FILTER_FIELDS = ['status', 'role', 'from', 'to', 'q', 'sort'] as const

/** The list's address for `filter` at `cursor` (none: the first page). */
export function recordingsHref(
  filter: RecordingFilter,
  cursor: string | null,
): string {
  const query = new URLSearchParams()
  for (const name of FILTER_FIELDS)
    if (filter[name]) query.set(name, filter[name])
  if (filter.limit) query.set('limit', filter.limit)
  if (cursor) query.set('cursor', cursor)
  const search = query.toString()
  return search ? `/recordings?${search}` : '/recordings'
}

export function isFiltered(filter: RecordingFilter) {
  return FILTER_FIELDS.some((name) => name !== 'sort' && filter[name] !== '')
}

/** Filters, search and sort: a plain GET form, so browsing works without JavaScript. */
export function RecordingFilters({ filter }: { filter: RecordingFilter }) {
  return (
    <Form
      method="get"
      action="/recordings"
      className="card recording-filters"
      role="search"
      aria-label="Filter recordings"
    >
      <div className="field recording-search">
        <label htmlFor="recordings-q">Title</label>
        <input
          id="recordings-q"
          type="search"
          name="q"
          defaultValue={filter.q}
          maxLength={100}
          placeholder="Search by session title"
        />
      </div>
      <Select
        id="recordings-status"
        name="status"
        label="Status"
        value={filter.status}
        options={STATUS_OPTIONS}
      />
      <Select
        id="recordings-role"
        name="role"
        label="Role"
        value={filter.role}
        options={ROLE_OPTIONS}
      />
      <div className="field">
        <label htmlFor="recordings-from">From</label>
        <input
          id="recordings-from"
          type="date"
          name="from"
          defaultValue={filter.from}
        />
      </div>
      <div className="field">
        <label htmlFor="recordings-to">To</label>
        <input
          id="recordings-to"
          type="date"
          name="to"
          defaultValue={filter.to}
        />
      </div>
      <Select
        id="recordings-sort"
        name="sort"
        label="Sort"
        value={filter.sort || 'newest'}
        options={SORT_OPTIONS}
      />
      {filter.limit ? (
        <input type="hidden" name="limit" value={filter.limit} />
      ) : null}
      <div className="recording-filter-actions">
        <button type="submit" className="button button-small">
          Apply
        </button>
        {isFiltered(filter) ? (
          <Link to="/recordings" className="button button-small button-ghost">
            Clear
          </Link>
        ) : null}
      </div>
    </Form>
  )
}

function Select({
  id,
  name,
  label,
  value,
  options,
}: {
  id: string
  name: string
  label: string
  value: string
  options: ReadonlyArray<readonly [string, string]>
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={value}>
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </div>
  )
}

/** The recordings, each with its state, and the pages after the first. */
export function RecordingList({
  recordings,
  nextCursor,
  filter,
}: {
  recordings: RecordingItem[]
  nextCursor: string | null
  filter: RecordingFilter
}) {
  const hydrated = useHydrated()
  const [playing, setPlaying] = useState<string | null>(null)
  if (recordings.length === 0) {
    return (
      <section className="card recording-empty" aria-label="Recordings">
        {isFiltered(filter) || filter.cursor ? (
          <p>
            No recordings match these filters
            {filter.cursor ? ' further on' : ''}.{' '}
            <Link to="/recordings">Show all recordings</Link>
          </p>
        ) : (
          <>
            <p>
              <strong>No recordings yet.</strong> Start a recording from your
              session&rsquo;s host controls. When it is ready, it shows up here
              for you and for everyone who took part.
            </p>
            <Link to="/dashboard" className="button button-small">
              Go to your sessions
            </Link>
          </>
        )}
      </section>
    )
  }
  return (
    <>
      <ul className="recording-list" aria-label="Recordings">
        {recordings.map((recording) => (
          <RecordingEntry
            key={recording.id}
            recording={recording}
            hydrated={hydrated}
            playing={playing === recording.id}
            onPlay={() =>
              setPlaying((current) =>
                current === recording.id ? null : recording.id,
              )
            }
          />
        ))}
      </ul>
      {nextCursor || filter.cursor ? (
        <nav className="history-pages" aria-label="Recording pages">
          {filter.cursor ? (
            <Link to={recordingsHref(filter, null)}>First page</Link>
          ) : null}
          {nextCursor ? (
            <Link to={recordingsHref(filter, nextCursor)} rel="next">
              Next page
            </Link>
          ) : null}
        </nav>
      ) : null}
    </>
  )
}

function RecordingEntry({
  recording,
  hydrated,
  playing,
  onPlay,
}: {
  recording: RecordingItem
  hydrated: boolean
  playing: boolean
  onPlay: () => void
}) {
  const title = recording.sessionTitle
  const when = recording.startedAt ?? recording.createdAt
  const [day, time] = formatDateTime(when)
  const details = [
    recording.durationSeconds !== null
      ? formatDuration(recording.durationSeconds)
      : null,
    recording.sizeBytes !== null ? formatBytes(recording.sizeBytes) : null,
    recording.resolution
      ? `${recording.resolution.width}×${recording.resolution.height}`
      : null,
    recording.format ? recording.format.toUpperCase() : null,
  ].filter(Boolean)
  const playerId = `player-${recording.id}`
  const isHost = recording.role === 'host'
  return (
    <li
      className="card recording-item"
      data-status={recording.status}
      aria-labelledby={`recording-${recording.id}`}
    >
      <div className="recording-head">
        <h2 id={`recording-${recording.id}`} className="recording-title">
          {title}
        </h2>
        <p className="recording-meta muted">
          <time dateTime={when}>
            {day}, {time}
          </time>
          {details.map((detail) => (
            <span key={detail}> · {detail}</span>
          ))}
        </p>
        <p className="recording-role muted">
          {isHost
            ? 'You hosted this session.'
            : `You took part as ${ROLE_NAMES[recording.role]}.`}
        </p>
      </div>
      <RecordingState recording={recording} />
      <div className="recording-actions">
        {recording.status === 'completed' ? (
          <>
            <button
              type="button"
              className="button button-small"
              onClick={onPlay}
              disabled={!hydrated}
              aria-expanded={playing}
              aria-controls={playerId}
            >
              {playing ? 'Close player' : 'Play'}
              <span className="visually-hidden"> {title}</span>
            </button>
            <noscript>
              <span className="muted">Playing needs JavaScript.</span>
            </noscript>
          </>
        ) : null}
        {isHost && recording.status !== 'recording' ? (
          <details className="recording-delete">
            <summary className="button button-small button-ghost">
              Delete<span className="visually-hidden"> {title}</span>
            </summary>
            <Form method="post" className="recording-delete-confirm">
              <p>
                Delete this recording for everyone who took part? This cannot be
                undone.
              </p>
              <input type="hidden" name="id" value={recording.id} />
              <SubmitButton
                intent="delete"
                className="button button-small button-danger"
                pendingLabel="Deleting…"
              >
                Delete for good
                <span className="visually-hidden"> {title}</span>
              </SubmitButton>
            </Form>
          </details>
        ) : null}
      </div>
      <div id={playerId}>
        {playing ? <RecordingPlayer id={recording.id} title={title} /> : null}
      </div>
    </li>
  )
}

/** What a recording that cannot be played yet is doing, in words. */
function RecordingState({ recording }: { recording: RecordingItem }) {
  switch (recording.status) {
    case 'recording':
      return (
        <p className="recording-state recording-state-live">
          <span aria-hidden="true">● </span>Recording now. It can be played once
          the host stops it and it has been processed.
        </p>
      )
    case 'processing':
      return (
        <p className="recording-state">
          <strong>Processing…</strong> It will be ready to play in a few
          minutes; reload this page to check.
        </p>
      )
    case 'failed':
      return (
        <p className="recording-state recording-state-failed">
          <strong>Failed:</strong>{' '}
          {recording.failureReason ?? 'the recording could not be saved.'}
        </p>
      )
    default:
      return null
  }
}

function useHydrated() {
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  return hydrated
}
