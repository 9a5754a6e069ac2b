import type { MetaFunction } from '@remix-run/cloudflare'
import { Link } from '@remix-run/react'

export const meta: MetaFunction = () => [
  { title: 'Kulti — build software live, together' },
  {
    name: 'description',
    content:
      'Host live building sessions, pass the screen between presenters, and learn from people shipping in the open.',
  },
]

const FEATURES = [
  {
    title: 'Build live',
    body: 'Open a session and share your screen. Up to six presenters pass the screen back and forth on live video.',
  },
  {
    title: 'Watch and learn',
    body: 'Join any public session, ask questions in chat, and see how real software gets made, mistakes included.',
  },
  {
    title: 'Earn credits',
    body: 'Watching and hosting earn credits. Tip the builders who taught you something, or boost your own session.',
  },
  {
    title: 'Rewatch anytime',
    body: 'Hosts record their sessions, and everyone who took part can come back to the recording later.',
  },
]

export default function Landing() {
  return (
    <>
      <section className="hero">
        <p className="eyebrow">Live building, together</p>
        <h1>Build software in the open, live.</h1>
        <p className="lede">
          Kulti is where people build software live: a host opens a session,
          presenters share their screens, and viewers watch, chat and tip — then
          come back to the recording.
        </p>
        <div className="hero-actions">
          <Link to="/login" className="button">
            Start building
          </Link>
          <a href="#how-it-works" className="button button-ghost">
            How it works
          </a>
        </div>
      </section>
      <section
        id="how-it-works"
        className="features"
        aria-label="How Kulti works"
      >
        {FEATURES.map((feature) => (
          <article key={feature.title} className="feature">
            <h2>{feature.title}</h2>
            <p>{feature.body}</p>
          </article>
        ))}
      </section>
    </>
  )
}
