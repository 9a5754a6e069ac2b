import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
} from '@remix-run/cloudflare'
import { DomainError } from '../models/errors'
import { jsonError } from './http.server'

type Handler<A> = (args: A) => Promise<Response>

/**
 * Wraps a JSON endpoint so its errors take the one JSON error shape: a thrown Response passes
 * through, a DomainError becomes its status and message, anything else propagates (a 500 that
 * workers/app.ts reports and answers without details).
 */
export function apiHandler<A extends LoaderFunctionArgs | ActionFunctionArgs>(
  handler: Handler<A>,
): Handler<A> {
  return async (args) => {
    try {
      return await handler(args)
    } catch (error) {
      if (error instanceof DomainError) {
        return jsonError(
          error.status,
          error.code,
          error.message,
          error.fields ? { fields: error.fields } : {},
        )
      }
      throw error
    }
  }
}

/** A JSON response that is never cached (everything under /api is per-user or live). */
export function json(data: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers)
  headers.set('Cache-Control', 'no-store')
  return Response.json(data, { ...init, headers })
}
