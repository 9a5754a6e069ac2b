// `npm run webhooks:retry`: re-applies every webhook event whose application failed, whatever its
// attempts or backoff, once an operator has fixed the cause. Runs the same model code as the
// scheduled job (app/models/webhook-events.server.ts) against the Postgres at DATABASE_URL.
// Safe to re-run: an applied event is never applied again.
import { neonConfig } from '@neondatabase/serverless'
import { WebSocket } from 'ws'
import { openRequestDatabase } from '../app/db/client.server'
import { retryFailedWebhookEvents } from '../app/models/webhook-events.server'
import { webhookHandlers } from '../app/models/webhook-handlers.server'
import { isLoopbackHost, startWsRelay } from './lib/ws-relay.mjs'

const url = process.env.DATABASE_URL
if (!url) {
  console.error(
    'webhooks:retry: DATABASE_URL is not set. Set it to the Postgres to repair, e.g.\n' +
      '  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kulti npm run webhooks:retry\n' +
      "(On `npm run dev`'s embedded database, run the scheduled retry job instead:\n" +
      "  curl 'http://127.0.0.1:8787/__scheduled?cron=*/10+*+*+*+*')",
  )
  process.exit(1)
}

// Node 20 has no global WebSocket; the driver speaks to Neon (or the local relay) through `ws`.
neonConfig.webSocketConstructor = WebSocket
// A local Postgres speaks TCP, not WebSocket: relay it as `npm run dev` does (or through the
// relay already running, named by DB_WSPROXY, e.g. the one `npm run dev` started).
const relay =
  !process.env.DB_WSPROXY && isLoopbackHost(new URL(url).hostname)
    ? await startWsRelay()
    : undefined
const database = openRequestDatabase({
  DATABASE_URL: url,
  DB_WSPROXY: process.env.DB_WSPROXY ?? relay?.address,
})
try {
  let total = { retried: 0, applied: 0, failed: 0 }
  // Batches of 100 until a batch finds nothing left to apply.
  for (;;) {
    const batch = await retryFailedWebhookEvents(database.db, webhookHandlers, {
      all: true,
    })
    total = {
      retried: total.retried + batch.retried,
      applied: total.applied + batch.applied,
      failed: total.failed + batch.failed,
    }
    if (batch.applied === 0) break
  }
  console.log(
    `webhooks:retry: ${total.retried} failed event(s) retried, ${total.applied} applied, ${total.failed} still failing` +
      (total.failed > 0
        ? ' (their reasons: SELECT event_id, type, attempts, failure_reason FROM webhook_events WHERE applied_at IS NULL)'
        : ''),
  )
  process.exitCode = total.failed > 0 ? 2 : 0
} catch (error) {
  console.error(
    `webhooks:retry: failed: ${error instanceof Error ? error.message : error}`,
  )
  process.exitCode = 1
} finally {
  await database.close()
  await relay?.close()
}
