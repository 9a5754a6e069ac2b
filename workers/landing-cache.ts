import { sessionCookieName } from '../app/utils/session-cookie.server'

/**
 * The anonymous landing page, rendered once per isolate and then sent from memory (ADR 021).
 *
 * What `/` shows a visitor without a session cookie depends on nothing but the build: no database
 * read, no query string, no user. Rendering it is most of a landing request's CPU (route matching,
 * the loaders, React's SSR), so the first such request renders it and keeps the HTML; later ones
 * get that HTML with their own CSP nonce written over the first one's. An isolate runs one build,
 * so the copy can never outlive the code that made it.
 *
 * Anything else renders as before: another path, a query string (`/?deleted=1` shows a notice), a
 * method other than GET, a request carrying the session cookie (even a stale one: only the full
 * render knows whether it still signs someone in), and any answer that is not a plain 200 page.
 */
export interface LandingCache {
  /** The kept page for `request`, carrying `nonce`, or null when it must be rendered. */
  serve(request: Request, nonce: string): Response | null
  /** Keeps `response` if it is the anonymous landing page; returns what to send (the same page). */
  keep(request: Request, response: Response, nonce: string): Promise<Response>
}

interface KeptPage {
  status: number
  headers: [string, string][]
  /**
   * The HTML as UTF-8, split around the nonce it was rendered with, to be joined with each
   * request's own (bytes, so no request encodes the page again).
   */
  parts: Uint8Array[]
  /** The bytes of all parts together (the gaps not counted). */
  length: number
}

const encoder = new TextEncoder()

export function createLandingCache(): LandingCache {
  let kept: KeptPage | undefined
  return {
    serve(request, nonce) {
      if (!kept || !isAnonymousLanding(request)) return null
      return new Response(withNonce(kept, nonce), {
        status: kept.status,
        headers: kept.headers,
      })
    },
    async keep(request, response, nonce) {
      if (kept || !isAnonymousLanding(request) || !isPlainPage(response))
        return response
      const html = await response.text()
      const parts = html.split(nonceAttribute(nonce))
      // Every script React and Remix render carries the nonce; a page without one is not what
      // this cache was written for, so it is sent once and not kept.
      if (parts.length > 1) {
        const encoded = parts.map((part) => encoder.encode(part))
        kept = {
          status: response.status,
          headers: [...response.headers],
          parts: encoded,
          length: encoded.reduce((sum, part) => sum + part.length, 0),
        }
      }
      return new Response(html, {
        status: response.status,
        headers: response.headers,
      })
    },
  }
}

/** How the nonce appears in the HTML: only ever as a script's attribute. */
const nonceAttribute = (nonce: string) => ` nonce="${nonce}"`

/** The kept page's bytes with `nonce` in every gap. */
function withNonce(page: KeptPage, nonce: string): Uint8Array<ArrayBuffer> {
  const attribute = encoder.encode(nonceAttribute(nonce))
  const gaps = page.parts.length - 1
  const bytes = new Uint8Array(page.length + gaps * attribute.length)
  let at = 0
  page.parts.forEach((part, i) => {
    bytes.set(part, at)
    at += part.length
    if (i < gaps) {
      bytes.set(attribute, at)
      at += attribute.length
    }
  })
  return bytes
}

function isAnonymousLanding(request: Request): boolean {
  if (request.method !== 'GET') return false
  const url = new URL(request.url)
  if (url.pathname !== '/' || url.search !== '') return false
  // Most visitors send no cookie at all: no need to work out the session cookie's name.
  const cookies = request.headers.get('Cookie')
  return cookies === null || !cookies.includes(`${sessionCookieName(request)}=`)
}

/** A complete 200 HTML page that sets nothing in the browser. */
function isPlainPage(response: Response): boolean {
  return (
    response.status === 200 &&
    !response.headers.has('Set-Cookie') &&
    (response.headers.get('Content-Type') ?? '').startsWith('text/html')
  )
}
