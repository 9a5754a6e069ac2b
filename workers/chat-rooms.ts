import type { ChatRoom, ChatRooms } from '../app/models/chat.server'
import type { Bindings } from './bindings'

/** One SessionChat object per session, named by the session id (ADR 015). */
export function chatRooms(bindings: Bindings): ChatRooms {
  const namespace = bindings.SESSION_CHAT
  return (sessionId) =>
    // The RPC stub has the object's methods, each returning a promise (ChatRoom allows both).
    namespace.get(namespace.idFromName(sessionId)) as unknown as ChatRoom
}
