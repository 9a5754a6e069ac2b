import { jsonError, readBytesWithLimit } from '../app/utils/http.server'

/** Form posts are small (the largest is a profile: 50 + 280 + 2048 characters). */
export const MAX_MUTATION_BYTES = 64 * 1024

/**
 * An outer bound on request bodies for the app Worker, applied before Remix reads any of them:
 * the body is read here, at most MAX_MUTATION_BYTES whatever Content-Length claims, and handed on
 * as a buffered copy; a larger one is answered 413. JSON endpoints apply their own, tighter limit
 * where they parse (parseJson). Returns the request to continue with, or the response to send.
 */
export async function limitRequestBody(
  request: Request,
): Promise<Request | Response> {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.body)
    return request
  const body = await readBytesWithLimit(request, MAX_MUTATION_BYTES)
  if (body === null) {
    return jsonError(
      413,
      'payload_too_large',
      `Request bodies are limited to ${MAX_MUTATION_BYTES / 1024} KiB.`,
    )
  }
  return new Request(request, { body })
}
