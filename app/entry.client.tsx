import { RemixBrowser } from '@remix-run/react'
import { startTransition, StrictMode } from 'react'
import { hydrateRoot } from 'react-dom/client'

// Errors before the reporter has loaded are kept for it.
const early: Event[] = []
const keep = (event: Event) => void early.push(event)
addEventListener('error', keep)
addEventListener('unhandledrejection', keep)

startTransition(() => {
  hydrateRoot(
    document,
    <StrictMode>
      <RemixBrowser />
    </StrictMode>,
  )
})

// The reporter (and web-vitals) is its own small chunk, loaded when the browser has a moment, so
// it costs no page its first load (docs/monitoring.md).
function loadReporter() {
  void import('./utils/client-monitoring.client').then((reporter) => {
    removeEventListener('error', keep)
    removeEventListener('unhandledrejection', keep)
    reporter.startClientMonitoring(early)
  })
}
if ('requestIdleCallback' in window)
  requestIdleCallback(loadReporter, { timeout: 3_000 })
else setTimeout(loadReporter, 1_000)
