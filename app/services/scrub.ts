/**
 * Removes personal data and secrets from text bound for logs and Sentry (SPEC §7): phone numbers,
 * bound query parameters (which hold phones, code hashes and message texts), and credentials in
 * connection strings. Applied to every error we report, whatever threw it.
 */
const PHONE = /\+[1-9]\d{7,14}\b/g
// drizzle's DrizzleQueryError ends its message with "params: <every bound value>".
const QUERY_PARAMS = /\n?params: [^\n]*/g
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g

export function maskPhone(phone: string): string {
  return phone.length <= 6
    ? '***'
    : `${phone.slice(0, 5)}${'*'.repeat(phone.length - 7)}${phone.slice(-2)}`
}

export function scrubText(text: string): string {
  return text
    .replace(QUERY_PARAMS, '\nparams: [redacted]')
    .replace(PHONE, (phone) => maskPhone(phone))
    .replace(URL_CREDENTIALS, '$1[redacted]@')
    .replace(BEARER, '$1 [redacted]')
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

/** `scrubText` applied to every string inside a JSON-like value (a Sentry event). */
export function scrubDeep<T>(value: T): T {
  if (typeof value === 'string') return scrubText(value) as T
  if (Array.isArray(value)) return value.map(scrubDeep) as T
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, scrubDeep(inner)]),
    ) as T
  }
  return value
}
