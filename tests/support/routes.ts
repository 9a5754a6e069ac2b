import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// The app's HTTP surface, read from app/routes/ at test time: the authorization matrix and the fuzz
// suite are generated from it, so a route added without a row in them fails those suites.

const ROUTES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../app/routes',
)

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface Endpoint {
  /** `GET /api/sessions/:id`, `POST /s/:roomCode [end]`: the key of a table row. */
  key: string
  method: Method
  /** The path pattern with `:params` (and `*` for a splat). */
  path: string
  /** The route file, e.g. `api.sessions.$id.ts`. */
  file: string
  kind: 'api' | 'page'
  /** A page form's `intent` value, when the action dispatches on one. */
  intent?: string
}

/**
 * A flat-routes file name as the URL path Remix serves it: dots separate segments (except inside
 * `[…]`, which is literal), `$name` is a parameter, a lone `$` a splat, `_index` the index.
 */
export function routePath(file: string): string {
  const name = file.replace(/\.(tsx?|jsx?)$/, '')
  if (name === '_index') return '/'
  const segments: string[] = []
  let current = ''
  let escaped = false
  for (const char of name) {
    if (char === '[') escaped = true
    else if (char === ']') escaped = false
    else if (char === '.' && !escaped) {
      segments.push(current)
      current = ''
    } else current += char
  }
  segments.push(current)
  return (
    '/' +
    segments
      .filter((segment) => segment !== '_index')
      .map((segment) =>
        segment === '$'
          ? '*'
          : segment.startsWith('$')
            ? `:${segment.slice(1)}`
            : segment,
      )
      .join('/')
  )
}

const API_METHODS = /^\s*async (GET|POST|PUT|PATCH|DELETE)\(/gm
// `intent === 'end'`, `form.get('intent') !== 'delete'`: the values an action dispatches on.
const INTENT_TESTS = /intent['")]*\s*[!=]==\s*'([\w-]+)'/g

/** Every endpoint of the app Worker: each JSON method, each page's GET and each page action (per intent). */
export function appEndpoints(): Endpoint[] {
  const endpoints: Endpoint[] = []
  for (const file of readdirSync(ROUTES).sort()) {
    if (!/\.(tsx?|jsx?)$/.test(file)) continue
    const source = readFileSync(path.join(ROUTES, file), 'utf8')
    const routed = routePath(file)
    const isPage = /\bexport\s+default\b/.test(source)
    const add = (method: Method, kind: Endpoint['kind'], intent?: string) =>
      endpoints.push({
        key: `${method} ${routed}${intent ? ` [${intent}]` : ''}`,
        method,
        path: routed,
        file,
        kind,
        intent,
      })
    if (!isPage) {
      const methods = new Set(
        [...source.matchAll(API_METHODS)].map((m) => m[1] as Method),
      )
      // A route with its own loader/action (the /api/* catch-all) answers GET and POST alike.
      if (methods.size === 0) {
        if (/export (const|async function|function) loader\b/.test(source))
          methods.add('GET')
        if (/export (const|async function|function) action\b/.test(source))
          methods.add('POST')
      }
      for (const method of methods) add(method, 'api')
      continue
    }
    add('GET', 'page')
    if (!/export (async )?function action\b/.test(source)) continue
    const intents = [
      ...new Set([...source.matchAll(INTENT_TESTS)].map((m) => m[1]!)),
    ]
    if (intents.length === 0) add('POST', 'page')
    for (const intent of intents) add('POST', 'page', intent)
  }
  return endpoints
}

/** The webhooks Worker's surface (a Hono app with one route, plus its JSON 404). */
export const WEBHOOK_ENDPOINTS = ['POST /webhooks/100ms'] as const
