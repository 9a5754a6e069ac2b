import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SAMPLES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/100ms/webhooks',
)

export interface WebhookSample {
  id: string
  type: string
  timestamp: string
  version: string
  data: Record<string, unknown>
  [field: string]: unknown
}

/** 100ms's documented sample of an event type, with a fresh event id (the samples' ids are masked). */
export function webhookSample(type: string): WebhookSample {
  const sample = JSON.parse(
    readFileSync(path.join(SAMPLES, `${type}.json`), 'utf8'),
  ) as WebhookSample
  return { ...sample, id: crypto.randomUUID() }
}

/** Every documented sample, each with a fresh id. */
export function allWebhookSamples(): WebhookSample[] {
  return readdirSync(SAMPLES)
    .filter((file) => file.endsWith('.json') && !file.startsWith('_'))
    .map((file) => webhookSample(file.replace(/\.json$/, '')))
}
