import type { Tx } from '../db/client.server'
import { sessionSettlements } from '../db/schema'
import { paySession } from './credits.server'

/**
 * The settlement seam (SPEC §3): called exactly once per session, inside the transaction that ends
 * it (endSessionInTransaction's conditional update guarantees the once; the settlement row's
 * primary key would refuse a second). Pays viewers, presenters and the host from the peer intervals
 * the webhooks recorded; events that arrive later change nothing, because nothing settles again.
 */
export async function settleSession(
  tx: Tx,
  session: {
    id: string
    hostId: string
    createdAt: Date
    endedAt: Date | null
  },
): Promise<void> {
  await tx.insert(sessionSettlements).values({ sessionId: session.id })
  await paySession(tx, session)
}
