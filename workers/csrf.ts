import { isOwnOrigin, jsonError } from '../app/utils/http.server'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Cross-site request forgery, checked in one place for every mutation of the app Worker (on top of
 * SameSite=Lax cookies). A browser always names the page's Origin on a POST: it must be ours.
 * Without an Origin (curl, scripts) only JSON is accepted, which no cross-site form can send.
 * Returns the 403 to answer with, or null to let the request through.
 */
export function refuseCrossSiteMutation(
  request: Request,
  appUrl?: string,
): Response | null {
  if (SAFE_METHODS.has(request.method)) return null
  const origin = request.headers.get('Origin')
  if (origin !== null) {
    return isOwnOrigin(origin, request, appUrl) ? null : forbidden()
  }
  if (request.headers.get('Sec-Fetch-Site') === 'cross-site') return forbidden()
  const contentType = request.headers.get('Content-Type') ?? ''
  return /^application\/json\b/i.test(contentType) ? null : forbidden()
}

function forbidden(): Response {
  return jsonError(
    403,
    'cross_origin',
    'This request did not come from the Kulti site, so it was refused.',
  )
}
