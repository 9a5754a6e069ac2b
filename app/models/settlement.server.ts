import type { Tx } from '../db/client.server'
import { sessionSettlements } from '../db/schema'

/**
 * The settlement seam (SPEC §3): called exactly once per session, inside the transaction that ends
 * it (endSessionInTransaction's conditional update guarantees the once; the settlement row's
 * primary key would refuse a second). The credits work pays viewers, presenters and the host here,
 * from the peer intervals the webhooks recorded.
 */
export async function settleSession(
  tx: Tx,
  session: { id: string },
): Promise<void> {
  await tx.insert(sessionSettlements).values({ sessionId: session.id })
}
