/**
 * Removes personal data and secrets from text bound for logs and Sentry (SPEC §7): phone numbers,
 * sign-in codes, tokens (100ms JWTs, session ids), cookies, authorization and secret headers,
 * bound query parameters (which hold phones, code hashes and message texts), credentials in
 * connection strings, and the invitation codes and ids in URLs. Applied to every error we
 * report, whatever threw it, and to every event on its way out (`scrubEvent`).
 */
const PHONE = /\+[1-9]\d{7,14}\b/g
// drizzle's DrizzleQueryError ends its message with "params: <every bound value>".
const QUERY_PARAMS = /\n?params: [^\n]*/g
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g
// 100ms join and management tokens, and any other JWT.
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g
// "Your Kulti code is 123456", `"code":"123456"`, "otp=123456".
const CODE_IN_TEXT = /\b(code|otp|passcode|pin)\b([^\d\n]{0,12}?)\d{4,8}\b/gi
// `Cookie: …`, `authorization: …`, `x-kulti-webhook-secret: …` as they appear in dumped headers.
const SECRET_HEADER =
  /\b(set-cookie|cookie|authorization|x-[\w-]*secret[\w-]*|x-[\w-]*token[\w-]*)(["']?\s*[:=]\s*["']?)[^\n"',}]+/gi
const SESSION_COOKIE = /\b((?:__Host-)?kulti_session)=[^;\s"',]+/g
// Session ids (256 random bits, base64url), hashes and other long opaque tokens. 40+ characters
// leaves UUIDs (36) alone.
const OPAQUE_TOKEN = /(?<![\w-])[A-Za-z0-9_-]{40,}(?![\w-])/g
// A room code is the invitation to a private session (`VIBE-2K4F`).
const ROOM_CODE = /\b[A-Z]{4}-[A-HJ-NP-Z2-9]{4}\b/g
const UUID_SEGMENT =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>]+/g

export function maskPhone(phone: string): string {
  return phone.length <= 6
    ? '***'
    : `${phone.slice(0, 5)}${'*'.repeat(phone.length - 7)}${phone.slice(-2)}`
}

export function scrubText(text: string): string {
  return text
    .replace(QUERY_PARAMS, '\nparams: [redacted]')
    .replace(URL_IN_TEXT, (url) => scrubUrl(url))
    .replace(SECRET_HEADER, '$1$2[redacted]')
    .replace(SESSION_COOKIE, '$1=[redacted]')
    .replace(JWT, '[token]')
    .replace(URL_CREDENTIALS, '$1[redacted]@')
    .replace(BEARER, '$1 [redacted]')
    .replace(CODE_IN_TEXT, '$1$2[code]')
    .replace(PHONE, (phone) => maskPhone(phone))
    .replace(OPAQUE_TOKEN, '[token]')
    .replace(ROOM_CODE, '[room code]')
}

/**
 * A URL without its query, fragment or credentials, and with the ids and codes in its path
 * replaced by placeholders (`/s/:roomCode`, `/api/sessions/:id/token`), so events of one page
 * group together and no invitation leaves.
 */
export function scrubUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url.replace(/[?#].*$/, '')
  }
  const path = parsed.pathname
    .split('/')
    .map((segment) => {
      const decoded = safeDecode(segment)
      if (UUID_SEGMENT.test(decoded)) return ':id'
      if (/^[A-Za-z]{4}-[A-Za-z0-9]{4}$/.test(decoded)) return ':roomCode'
      if (/^[\w-]{20,}$/.test(decoded)) return ':token'
      if (/^\+?[1-9]\d{7,14}$/.test(decoded)) return ':phone'
      return segment
    })
    .join('/')
  return `${parsed.protocol}//${parsed.host}${path}`
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** An Error with the same name and stack frames as `error`, and its message (and causes') scrubbed. */
export function scrubError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(scrubText(String(error)))
  const cause =
    error.cause instanceof Error
      ? ` (cause: ${scrubText(error.cause.message)})`
      : ''
  const message = scrubText(error.message) + cause
  const safe = new Error(message)
  safe.name = error.name
  // The stack starts with "Name: message"; keep only the frames below it.
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
  safe.stack = [`${safe.name}: ${message}`, ...frames.map(scrubText)].join('\n')
  return safe
}

// Values under these keys are dropped whole, whatever they look like.
const SECRET_KEY =
  /^(cookies?|set-cookie|authorization|password|secret|token|auth_?token|phone|to|body|otp|dsn)$|secret|token|password|cookie|authorization|phone/i

/** `scrubText` applied to every string inside a JSON-like value; values of secret keys dropped. */
export function scrubDeep<T>(value: T): T {
  if (typeof value === 'string') return scrubText(value) as T
  if (Array.isArray(value)) return value.map(scrubDeep) as T
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        SECRET_KEY.test(key) ||
        (key === 'code' && /^\d{4,8}$/.test(String(inner)))
          ? '[redacted]'
          : scrubDeep(inner),
      ]),
    ) as T
  }
  return value
}

/** The parts of a Sentry event that can hold what people typed or what we were working on. */
interface EventLike {
  message?: unknown
  logentry?: unknown
  exception?: { values?: Array<{ value?: string }> }
  breadcrumbs?: unknown[]
  extra?: Record<string, unknown>
  contexts?: Record<string, unknown>
  tags?: Record<string, unknown>
  user?: { id?: unknown } & Record<string, unknown>
  request?: {
    url?: string
    headers?: Record<string, string>
    cookies?: unknown
    data?: unknown
    query_string?: unknown
    [key: string]: unknown
  }
  transaction?: string
  culprit?: string
}

/**
 * The last pass over an event before it leaves the Worker (Sentry's `beforeSend`): messages,
 * exception values, breadcrumbs, extra data, contexts, tags and the request are scrubbed; the
 * request keeps no cookies, body or query; the user keeps only its id.
 */
export function scrubEvent<E extends object>(original: E): E {
  const event = original as EventLike
  const scrubbed: EventLike = { ...event }
  if (event.message !== undefined) scrubbed.message = scrubDeep(event.message)
  if (event.logentry !== undefined)
    scrubbed.logentry = scrubDeep(event.logentry)
  if (event.exception?.values) {
    scrubbed.exception = {
      ...event.exception,
      values: event.exception.values.map((value) => ({
        ...value,
        ...(value.value === undefined ? {} : { value: scrubText(value.value) }),
      })),
    }
  }
  for (const key of ['breadcrumbs', 'extra', 'contexts', 'tags'] as const) {
    if (event[key] !== undefined) scrubbed[key] = scrubDeep(event[key]) as never
  }
  if (event.transaction) scrubbed.transaction = scrubText(event.transaction)
  if (event.culprit) scrubbed.culprit = scrubText(event.culprit)
  if (event.user) {
    scrubbed.user =
      event.user.id === undefined ? {} : { id: String(event.user.id) }
  }
  if (event.request) {
    const { cookies, data, query_string, ...request } = event.request
    void cookies
    void data
    void query_string
    scrubbed.request = {
      ...request,
      ...(request.url ? { url: scrubUrl(request.url) } : {}),
      ...(request.headers ? { headers: scrubDeep(request.headers) } : {}),
    }
  }
  return scrubbed as E
}
