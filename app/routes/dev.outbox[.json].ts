import { listOutbox } from '../models/sms-outbox.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireOutbox } from '../utils/outbox.server'

/** `[{to, body, sentAt}]`, newest first: development and tests read sign-in codes here. */
export const { loader, action } = apiRoute({
  async GET({ context }) {
    requireOutbox(context)
    return json(await listOutbox(getDb(context)))
  },
})
