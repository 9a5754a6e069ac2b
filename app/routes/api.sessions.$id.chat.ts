import {
  admitToChat,
  CHAT_ADMISSION_HEADER,
  encodeAdmission,
} from '../models/chat.server'
import { apiRoute } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { DomainError } from '../utils/errors'
import { isOwnOrigin } from '../utils/http.server'
import { requireApiUser } from '../utils/session.server'

/**
 * The session chat's WebSocket (SPEC §2a): the member is established here (session cookie, our
 * Origin, who may see the session, bans) and the upgrade is handed to the session's SessionChat
 * object with the admission in a header only this Worker can set.
 * `?code=` admits to a private session by its room code; `?after=<id>` resumes after a message.
 */
export const { loader, action } = apiRoute({
  async GET({ request, params, context }) {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket')
      throw new DomainError(
        'upgrade_required',
        'This is the chat WebSocket: connect with a WebSocket client.',
        426,
        undefined,
        { Upgrade: 'websocket' },
      )
    // Browsers always name the page's origin on a WebSocket: a foreign page cannot ride the cookie.
    const origin = request.headers.get('Origin')
    if (!origin || !isOwnOrigin(origin, request, context.env.APP_URL))
      throw new DomainError(
        'cross_origin',
        'This chat connection did not come from the Kulti site, so it was refused.',
        403,
      )
    const user = await requireApiUser(request, context)
    const url = new URL(request.url)
    const after = url.searchParams.get('after')
    const admission = await admitToChat(
      getDb(context),
      user.id,
      params.id ?? '',
      {
        roomCode: url.searchParams.get('code'),
        after:
          after !== null && /^\d{1,15}$/.test(after) ? Number(after) : null,
      },
    )
    const headers = new Headers({ Upgrade: 'websocket' })
    headers.set(
      CHAT_ADMISSION_HEADER,
      encodeAdmission({ ...admission, requestId: context.requestId }),
    )
    return context
      .chat(admission.room.sessionId)
      .fetch(new Request(request.url, { headers }))
  },
})
