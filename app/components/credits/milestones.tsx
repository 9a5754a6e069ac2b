import { formatCredits, formatHours } from './format'

/** A milestone with the user's progress (milestoneProgress), and what its numbers count. */
export interface MilestoneView {
  name: string
  label: string
  bonus: number
  reached: boolean
  /** Sessions, or minutes for the hour milestones. */
  progress: number
  threshold: number
  unit: 'sessions' | 'minutes'
}

function progressText(m: MilestoneView): string {
  return m.unit === 'minutes'
    ? `${formatHours(m.progress)} of ${formatHours(m.threshold)} hours`
    : `${m.progress} of ${m.threshold} ${m.threshold === 1 ? 'session' : 'sessions'}`
}

/** Milestones reached (as badges) and the next one on each track, with how far along it is. */
export function Milestones({
  reached,
  next,
}: {
  reached: MilestoneView[]
  next: MilestoneView[]
}) {
  return (
    <section className="card milestones" aria-labelledby="milestones-heading">
      <h2 id="milestones-heading">Milestones</h2>
      <h3>Reached</h3>
      {reached.length === 0 ? (
        <p className="muted">
          None yet: watch or host a session to reach the first ones.
        </p>
      ) : (
        <ul className="badge-list" aria-label="Milestones reached">
          {reached.map((m) => (
            <li key={m.name} className="badge">
              {m.label}
              <span className="muted"> · +{formatCredits(m.bonus)}</span>
            </li>
          ))}
        </ul>
      )}
      <h3>Next</h3>
      {next.length === 0 ? (
        <p className="muted">Every milestone reached. Impressive.</p>
      ) : (
        <ul className="milestone-list" aria-label="Next milestones">
          {next.map((m) => (
            <li key={m.name} className="milestone">
              <div className="milestone-head">
                <span className="milestone-label" id={`milestone-${m.name}`}>
                  {m.label}
                </span>
                <span className="muted">+{formatCredits(m.bonus)} credits</span>
              </div>
              <progress
                max={m.threshold}
                value={m.progress}
                aria-labelledby={`milestone-${m.name}`}
                aria-describedby={`milestone-${m.name}-text`}
              />
              <span className="milestone-text" id={`milestone-${m.name}-text`}>
                {progressText(m)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <p className="muted milestone-note">
        Watching and hosting count once a session has ended.
      </p>
    </section>
  )
}
