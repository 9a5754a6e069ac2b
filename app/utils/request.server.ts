import * as z from 'zod'
import { jsonError, readBodyWithLimit } from './http.server'
import { fieldErrors } from './validation'

/** The client's address as Cloudflare saw it (CF-Connecting-IP cannot be set by the client there). */
export function clientIp(request: Request): string {
  return request.headers.get('CF-Connecting-IP') ?? 'unknown'
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

const MAX_JSON_BYTES = 16 * 1024

/**
 * Reads a JSON body and validates it: size-limited, JSON only, no prototype-polluting keys, unknown
 * fields dropped (zod's default). Throws a 400/415 Response with field messages otherwise.
 */
export async function parseJson<S extends z.ZodType>(
  request: Request,
  schema: S,
): Promise<z.infer<S>> {
  if (
    !/^application\/json\b/i.test(request.headers.get('Content-Type') ?? '')
  ) {
    throw jsonError(
      415,
      'unsupported_media_type',
      'Send a JSON body with Content-Type: application/json.',
    )
  }
  const text = await readBodyWithLimit(request, MAX_JSON_BYTES)
  if (text === null)
    throw jsonError(
      413,
      'payload_too_large',
      `Bodies are limited to ${MAX_JSON_BYTES / 1024} KiB.`,
    )
  let body: unknown
  try {
    body = JSON.parse(text, (key, value) => {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype')
        throw new ForbiddenKeyError(key)
      return value
    })
  } catch (error) {
    if (error instanceof ForbiddenKeyError) {
      throw jsonError(
        400,
        'invalid_body',
        `The key "${error.key}" is not allowed.`,
      )
    }
    throw jsonError(400, 'invalid_json', 'The body is not valid JSON.')
  }
  return validate(schema, body)
}

/** Validates form fields the same way (Remix actions). */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
): z.infer<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw jsonError(400, 'invalid_input', 'Some fields need fixing.', {
      fields: fieldErrors(result.error),
    })
  }
  return result.data
}

class ForbiddenKeyError extends Error {
  constructor(readonly key: string) {
    super(key)
  }
}
