import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
} from '@remix-run/cloudflare'
import { rateLimitHeaders } from '../services/rate-limit.server'
import {
  isDomainError,
  isRateLimited,
  isUnavailable,
  unavailableDetails,
} from './errors'
import { jsonError } from './http.server'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
type Args = LoaderFunctionArgs | ActionFunctionArgs
type Handler = (args: Args) => Promise<Response>

/**
 * A JSON resource route from a map of methods: `export const { loader, action } = apiRoute({ GET,
 * PUT })`. Any other method is a 405 naming the allowed ones (the one 405 helper), and every answer
 * takes the one JSON error shape: this is the JSON API's translator of typed errors (ADR 010).
 * Responses carry the RateLimit headers of every limit the request was counted against.
 */
export function apiRoute(handlers: Partial<Record<Method, Handler>>) {
  const allowed = Object.keys(handlers) as Method[]
  const allow = [...allowed, ...(handlers.GET ? ['HEAD'] : [])].join(', ')
  const dispatch = async (args: Args): Promise<Response> => {
    const method = args.request.method === 'HEAD' ? 'GET' : args.request.method
    const handler = handlers[method as Method]
    if (!handler) {
      return jsonError(
        405,
        'method_not_allowed',
        `Use ${allowed.join(' or ')} for this endpoint.`,
        { headers: { Allow: allow } },
      )
    }
    let response: Response
    try {
      response = await handler(args)
    } catch (error) {
      if (error instanceof Response) throw error
      response = apiError(error, args)
    }
    // A WebSocket handshake's headers are the chat object's (and immutable).
    if (response.status === 101) return response
    for (const [name, value] of Object.entries(
      rateLimitHeaders(args.context.limiter.decisions),
    ))
      response.headers.set(name, value)
    return response
  }
  return { loader: dispatch, action: dispatch }
}

/** A typed error as the JSON error shape; anything else is reported and answered 500. */
function apiError(error: unknown, { context, request }: Args): Response {
  if (isDomainError(error)) {
    return jsonError(error.status, error.code, error.message, {
      fields: error.fields,
      headers: error.headers,
    })
  }
  if (isRateLimited(error)) return jsonError(429, 'rate_limited', error.message)
  const path = new URL(request.url).pathname
  context.monitor.captureException(error, {
    requestId: context.requestId,
    path,
    ...unavailableDetails(error),
  })
  if (isUnavailable(error)) {
    return jsonError(503, error.code, error.message, {
      headers: { 'Retry-After': String(error.retryAfter) },
    })
  }
  return jsonError(
    500,
    'internal_error',
    'Something went wrong on our side. Please try again.',
  )
}

/** A JSON response that is never cached (everything under /api is per-user or live). */
export function json(data: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers)
  headers.set('Cache-Control', 'no-store')
  return Response.json(data, { ...init, headers })
}
