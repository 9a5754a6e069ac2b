import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
} from '@remix-run/cloudflare'
import { DomainError } from '../models/errors'
import { jsonError } from './http.server'

type Handler<A> = (args: A) => Promise<Response>

/**
 * Wraps a JSON endpoint so every answer takes the one JSON error shape: a thrown Response passes
 * through, a DomainError becomes its status and message, and anything else is reported and
 * answered 500 without details (Remix would otherwise answer resource routes in plain text).
 */
export function apiHandler<A extends LoaderFunctionArgs | ActionFunctionArgs>(
  handler: Handler<A>,
): Handler<A> {
  return async (args) => {
    try {
      return await handler(args)
    } catch (error) {
      if (error instanceof Response) throw error
      if (error instanceof DomainError) {
        return jsonError(
          error.status,
          error.code,
          error.message,
          error.fields ? { fields: error.fields } : {},
        )
      }
      args.context.monitor.captureException(error, {
        requestId: args.context.requestId,
        path: new URL(args.request.url).pathname,
      })
      return jsonError(
        500,
        'internal_error',
        'Something went wrong on our side. Please try again.',
      )
    }
  }
}

/**
 * The other half of a resource route that takes one method (`export const loader = onlyMethod('POST')`),
 * so a wrong method is a 405 naming the right one instead of Remix's generic error.
 */
export function onlyMethod(method: string) {
  return async (): Promise<Response> =>
    jsonError(405, 'method_not_allowed', `Use ${method} for this endpoint.`, {
      headers: { Allow: method },
    })
}

/** A JSON response that is never cached (everything under /api is per-user or live). */
export function json(data: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers)
  headers.set('Cache-Control', 'no-store')
  return Response.json(data, { ...init, headers })
}
