import * as z from 'zod'
import { DomainError } from './errors'
import { readBodyWithLimit } from './http.server'
import { fieldErrors } from './validation'

/** The client's address as Cloudflare saw it (CF-Connecting-IP cannot be set by the client there). */
export function clientIp(request: Request): string {
  return request.headers.get('CF-Connecting-IP') ?? 'unknown'
}

/** Who is asking, as far as a request tells: the address Cloudflare saw and the browser's name. */
export interface RequestClient {
  ip: string
  userAgent: string | null
}

export function requestClient(request: Request): RequestClient {
  return {
    ip: clientIp(request),
    userAgent: request.headers.get('User-Agent'),
  }
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/** The eight 16-bit groups of an IPv6 address (`::` expanded), or null if it is not one. */
function ipv6Groups(ip: string): string[] | null {
  if (!ip.includes(':') || !/^[0-9a-f:.]+$/i.test(ip)) return null
  const halves = ip.toLowerCase().split('::')
  if (halves.length > 2) return null
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  // An embedded IPv4 tail (::ffff:192.0.2.1) takes two groups.
  const tailGroups = tail.flatMap((part) =>
    IPV4.test(part) ? ['0', '0'] : [part],
  )
  const missing = 8 - head.length - tailGroups.length
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null
  const groups = [...head, ...Array(missing).fill('0'), ...tailGroups]
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))
    ? groups.map((g) => g.replace(/^0+(?=.)/, ''))
    : null
}

/** /24 of an IPv4 address or /48 of an IPv6 one: enough to recognise a network, not a person. */
export function ipPrefix(ip: string): string | null {
  if (IPV4.test(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`
  const groups = ipv6Groups(ip)
  return groups ? `${groups.slice(0, 3).join(':')}::/48` : null
}

/**
 * Who a per-address rate limit counts: the IPv4 address, or the /64 of an IPv6 one, since a
 * single home connection or cloud VM holds a whole /64 and could otherwise rotate through it.
 */
export function rateLimitNetwork(ip: string): string {
  const groups = ipv6Groups(ip)
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : ip
}

/**
 * The wider network a per-address limit also counts: the /48 of an IPv6 address (a site's whole
 * allocation, 65,536 /64s), or null for IPv4, whose single address is already the unit.
 */
export function rateLimitSite(ip: string): string | null {
  const groups = ipv6Groups(ip)
  return groups ? `${groups.slice(0, 3).join(':')}::/48` : null
}

/** JSON API bodies are small; routes that need more (webhooks: 256 KiB) say so. */
export const MAX_JSON_BYTES = 16 * 1024

/**
 * Reads a JSON body and validates it, for both Workers: JSON content type (415), at most `maxBytes`
 * whatever Content-Length claims (413), well-formed (400), no `__proto__`/`constructor`/`prototype`
 * key at any depth (400), and the schema (400 with a message per field; unknown fields dropped).
 * Throws DomainError, which each surface's translator answers.
 */
export async function parseJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  options: { maxBytes?: number } = {},
): Promise<z.infer<S>> {
  const { value } = await readJson(request, options)
  return validate(schema, value)
}

/**
 * The checks of `parseJson` short of the schema; returns the text as received and its value.
 * `contentType` widens the accepted types for a JSON dialect (CSP reports), `typeMessage` says so.
 */
export async function readJson(
  request: Request,
  {
    maxBytes = MAX_JSON_BYTES,
    contentType = /^application\/json\b/i,
    typeMessage = 'Send a JSON body with Content-Type: application/json.',
  }: { maxBytes?: number; contentType?: RegExp; typeMessage?: string } = {},
): Promise<{ text: string; value: unknown }> {
  if (!contentType.test(request.headers.get('Content-Type') ?? '')) {
    throw new DomainError('unsupported_media_type', typeMessage, 415)
  }
  const text = await readBodyWithLimit(request, maxBytes)
  if (text === null) {
    throw new DomainError(
      'payload_too_large',
      `Bodies are limited to ${maxBytes / 1024} KiB.`,
      413,
    )
  }
  try {
    const value: unknown = JSON.parse(text, (key, value) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKeyError(key)
      return value
    })
    return { text, value }
  } catch (error) {
    if (error instanceof ForbiddenKeyError) {
      throw new DomainError(
        'invalid_body',
        `The key "${error.key}" is not allowed.`,
      )
    }
    throw new DomainError('invalid_json', 'The body is not valid JSON.')
  }
}

/** Validates already-parsed input; a failure is a 400 with one message per field. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  message = 'Some fields need fixing.',
  code = 'invalid_input',
): z.infer<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw new DomainError(code, message, 400, fieldErrors(result.error))
  }
  return result.data
}

// Keys that would reach Object.prototype if the body were ever merged into an object.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

class ForbiddenKeyError extends Error {
  constructor(readonly key: string) {
    super(key)
  }
}

/**
 * The `Idempotency-Key` header (tips, boosts): 1–100 visible characters, or null when absent. A
 * malformed key is refused rather than ignored, so a client never pays twice by mistake.
 */
export function idempotencyKey(request: Request): string | null {
  const key = request.headers.get('Idempotency-Key')
  if (key === null) return null
  if (!/^[\x21-\x7e]{1,100}$/.test(key))
    throw new DomainError(
      'invalid_idempotency_key',
      'The Idempotency-Key header must be 1 to 100 visible ASCII characters.',
    )
  return key
}
