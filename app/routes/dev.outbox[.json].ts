import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { listOutbox } from '../models/sms-outbox.server'
import { json, onlyMethod } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { requireOutbox } from '../utils/outbox.server'

/** `[{to, body, sentAt}]`, newest first: development and tests read sign-in codes here. */
export async function loader({ context }: LoaderFunctionArgs) {
  requireOutbox(context)
  return json(await listOutbox(getDb(context)))
}

export const action = onlyMethod('GET')
