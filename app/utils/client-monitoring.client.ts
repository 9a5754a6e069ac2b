import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals'
import { flush, reportError, reportVital } from './client-reports.client'

/**
 * The browser's reporter: uncaught errors, unhandled rejections and Web Vitals, queued in
 * client-reports.client.ts. It never blocks a page: entry.client.tsx loads it once the browser is
 * idle, with what happened before it loaded.
 */
let started = false

/** Starts listening; `early` holds what happened before this module loaded. */
export function startClientMonitoring(early: Event[] = []) {
  if (started) return
  started = true
  const onEvent = (event: Event) => {
    if (event.type === 'unhandledrejection')
      reportError((event as PromiseRejectionEvent).reason, 'unhandledrejection')
    else {
      const { error, message } = event as ErrorEvent
      reportError(error ?? message, 'error')
    }
  }
  early.forEach(onEvent)
  addEventListener('error', onEvent)
  addEventListener('unhandledrejection', onEvent)
  const vital = ({ name, value, rating }: Metric) =>
    reportVital({ name, value: Math.round(value * 1000) / 1000, rating })
  onTTFB(vital)
  onFCP(vital)
  onLCP(vital)
  onINP(vital)
  onCLS(vital)
  // LCP, INP and CLS are final only when the page is hidden: send what is left then.
  addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush()
  })
  addEventListener('pagehide', flush)
}
