import { randomUUID } from 'node:crypto'
import {
  createMonitor,
  type Monitor,
} from '../../app/services/monitoring.server'
import { buildVersion } from './version.mjs'

const ENVIRONMENTS = ['development', 'test', 'production'] as const
type Environment = (typeof ENVIRONMENTS)[number]

/**
 * The Workers' monitor for an operator script run from a scheduler (`credits:audit`): it reports
 * to SENTRY_DSN when that is set in the script's environment, and only logs otherwise. `flush`
 * waits for everything sent, before the process exits.
 */
export function scriptMonitor(
  script: string,
): Monitor & { flush(): Promise<void> } {
  const pending: Promise<unknown>[] = []
  const environment = ENVIRONMENTS.find((e) => e === process.env.ENVIRONMENT)
  const monitor = createMonitor({
    env: {
      SENTRY_DSN: process.env.SENTRY_DSN || undefined,
      ENVIRONMENT: environment ?? ('production' satisfies Environment),
      SENTRY_SAMPLE_RATE: 1,
    },
    release: buildVersion(),
    context: { waitUntil: (promise) => void pending.push(promise) },
    requestId: randomUUID(),
    source: script,
  })
  return {
    ...monitor,
    async flush() {
      await Promise.allSettled(pending)
    },
  }
}
