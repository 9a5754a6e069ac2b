// The bench's bare Worker (bench/run.ts): `GET /` answers a constant, and `POST /insert` stores a
// 100ms webhook with the single INSERT the webhooks Worker makes first (app/models/webhook-events
// .server.ts), through the same driver, pool and relay (openRequestDatabase). Nothing else: no
// validation, telemetry, security headers or transaction, so the app's figures read as ratios of it.
import { openRequestDatabase } from '../../app/db/client.server'
import { webhookEvents } from '../../app/db/schema'

interface Env {
  DATABASE_URL: string
  DB_WSPROXY?: string
}

interface Envelope {
  id: string
  type: string
  timestamp: string
}

export default {
  async fetch(request, env, context) {
    if (request.method !== 'POST') return new Response('ok')
    const body = await request.text()
    const event = JSON.parse(body) as Envelope
    const database = openRequestDatabase(env)
    try {
      await database.db
        .insert(webhookEvents)
        .values({
          eventId: event.id,
          type: event.type,
          occurredAt: new Date(event.timestamp),
          body,
        })
        .onConflictDoNothing({ target: webhookEvents.eventId })
      return Response.json({ received: true })
    } finally {
      context.waitUntil(database.close())
    }
  },
} satisfies ExportedHandler<Env>
