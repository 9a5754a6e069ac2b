import type { ChatRoom, ChatRooms } from '../app/models/chat.server'
import type { DurableObjectCall } from '../app/services/monitoring.server'
import { currentTelemetry } from '../app/services/telemetry.server'
import type { Bindings } from './bindings'

type WithCall<F> = F extends (...args: infer A) => infer R
  ? (...args: [...A, DurableObjectCall?]) => R
  : never

/** The object's RPC surface: each call also takes the calling request's id, for monitoring. */
type SessionChatStub = {
  [K in Exclude<keyof ChatRoom, 'fetch'>]: WithCall<ChatRoom[K]>
} & Pick<ChatRoom, 'fetch'>

/**
 * One SessionChat object per session, named by the session id (ADR 015). Every call passes the
 * current request's id along, so an error inside the object is reported under the same id.
 */
export function chatRooms(bindings: Bindings): ChatRooms {
  const namespace = bindings.SESSION_CHAT
  return (sessionId) => {
    const stub = namespace.get(
      namespace.idFromName(sessionId),
    ) as unknown as SessionChatStub
    const call = (): DurableObjectCall => ({
      requestId: currentTelemetry()?.requestId,
    })
    return {
      fetch: (request) => stub.fetch(request),
      moderate: (actor, command, target) =>
        stub.moderate(actor, command, target, call()),
      setModerator: (userId, isModerator) =>
        stub.setModerator(userId, isModerator, call()),
      setBlockedTerms: (terms) => stub.setBlockedTerms(terms, call()),
      disconnectMember: (userId) => stub.disconnectMember(userId, call()),
      close: () => stub.close(call()),
      exportChat: () => stub.exportChat(call()),
      clear: () => stub.clear(call()),
    }
  }
}
