import fc from 'fast-check'
import type { Endpoint } from './routes'
import { allWebhookSamples } from './webhook-samples'
import { BASE_URL, TEST_WEBHOOK_SECRET } from './workers'
import type { World } from './world'

// What the fuzz suite throws at both Workers: requests built from hostile pieces (SPEC §7: every
// input validated at the edge, bodies size-limited, unknown fields dropped, `__proto__` refused).

/** One request, as plain data, so a failing case can be printed and kept as a regression. */
export interface FuzzRequest {
  worker: 'app' | 'webhooks'
  persona: 'host' | 'stranger' | 'anonymous'
  method: string
  /** With `{sessionId}`, `{recordingId}`, `{roomCode}`, `{targetId}` placeholders for the world. */
  path: string
  headers: Record<string, string>
  /** Text, raw bytes (not necessarily UTF-8), or (in the regressions file) text repeated. */
  body?: string | number[] | Repeated
}

/** `prefix + text × times + suffix`: a big body, written down small. */
export interface Repeated {
  prefix: string
  repeat: string
  times: number
  suffix: string
}

export function bodyText(body: string | Repeated): string {
  return typeof body === 'string'
    ? body
    : body.prefix + body.repeat.repeat(body.times) + body.suffix
}

/** The world's values, as the placeholders in a FuzzRequest name them. */
export function placeholders(w: World): Record<string, string> {
  return {
    sessionId: w.session.id,
    recordingId: w.recordingId,
    roomCode: w.session.roomCode,
    targetId: w.target.userId,
  }
}

export function fillIn(text: string, values: Record<string, string>): string {
  return text.replace(
    /\{(sessionId|recordingId|roomCode|targetId)\}/g,
    (_, k) => encodeURIComponent(values[k]!),
  )
}

const PLACEHOLDERS = [
  '{sessionId}',
  '{recordingId}',
  '{roomCode}',
  '{targetId}',
]

/** Strings that have broken web apps before. */
export const HOSTILE_STRINGS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "javascript:alert('x')",
  'data:text/html,<script>alert(1)</script>',
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; select pg_sleep(5)',
  '" OR ""="',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ufeff',
  '\u202egnp.exe',
  '👩‍💻🏳️‍🌈',
  '%00',
  '%',
  '%ZZ',
  '../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '{{7*7}}',
  '${7*7}',
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e400',
  '99999999999999999999',
  '\r\nSet-Cookie: pwned=1',
  'https://evil.example/x?y=1',
  'http://127.0.0.1:9/',
  'VIBE-2K4F',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'A'.repeat(300),
  'é'.repeat(3000),
]

/** Every field name the JSON API and the page forms read, so bodies reach the validators. */
export const FIELD_NAMES = [
  'phone',
  'code',
  'userId',
  'action',
  'title',
  'description',
  'isPublic',
  'maxPresenters',
  'recipientId',
  'amount',
  'message',
  'sessionId',
  'roomCode',
  'terms',
  'confirm',
  'username',
  'displayName',
  'bio',
  'avatarUrl',
  'messageId',
  'minutes',
  'seconds',
  'intent',
  'id',
  'idempotencyKey',
  'redirectTo',
  'after',
  'type',
  'text',
]

/** The query parameters any route reads. */
const QUERY_NAMES = [
  'limit',
  'cursor',
  'status',
  'role',
  'from',
  'to',
  'q',
  'sort',
  'type',
  'period',
  'code',
  'after',
  'redirectTo',
  'index',
  '_data',
  'deleted',
]

/** `s` with each lone surrogate replaced (encodeURIComponent throws on them). */
const wellFormed = (s: string) =>
  s.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  )

const loneSurrogates = fc
  .array(fc.integer({ min: 0xd800, max: 0xdfff }), {
    minLength: 1,
    maxLength: 4,
  })
  .map((units) => String.fromCharCode(...units))

const longUnicode = fc
  .tuple(
    fc.constantFrom('é', '𝒳', '👩‍💻', 'ש', '\u0301', '\u0000', 'a'),
    // Kept under 4× the app Worker's 64 KiB body limit even urlencoded: the Worker still answers
    // those; beyond, it cuts the connection by design.
    fc.integer({ min: 50, max: 5_000 }),
  )
  .map(([unit, times]) => unit.repeat(times))

/**
 * For paths and query strings: the same without the very long ones. A request line over a few
 * KiB is refused by the platform before any Worker runs (431 locally, 414 at Cloudflare's edge),
 * and a local server that refuses it while the body is still being sent resets the connection.
 */
const hostileUrlString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ...HOSTILE_STRINGS.filter((s) => s.length < 400),
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(...PLACEHOLDERS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: loneSurrogates },
)

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...PLACEHOLDERS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: loneSurrogates },
  { weight: 1, arbitrary: longUnicode },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...HOSTILE_STRINGS),
        fc.constantFrom(...HOSTILE_STRINGS),
      )
      .map(([a, b]) => a + b),
  },
)

/** JSON number tokens, some of which no double holds. */
const numberToken = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom(
    '0',
    '-0',
    '-1',
    '0.5',
    '2147483648',
    '9007199254740993',
    '-9007199254740993',
    '1e308',
    '1e400',
    '-1e400',
    '5e-324',
    '123456789012345678901234567890',
  ),
)

/** JSON text (always well-formed), with `__proto__`, duplicates and empty keys among the keys. */
const jsonKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', ''),
  },
  { weight: 1, arbitrary: hostileString },
)

const { value: jsonText, object: jsonObjectText } = fc.letrec<{
  value: string
  leaf: string
  array: string
  object: string
}>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    tie('array'),
    tie('object'),
  ),
  leaf: fc.oneof(
    { weight: 3, arbitrary: hostileString.map((s) => JSON.stringify(s)) },
    { weight: 2, arbitrary: numberToken },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
  ),
  array: fc
    .array(tie('value'), { maxLength: 4 })
    .map((items) => `[${items.join(',')}]`),
  object: fc
    .array(fc.tuple(jsonKey, tie('value')), { maxLength: 6 })
    .map(
      (entries) =>
        `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`,
    ),
}))

export { jsonObjectText, jsonText }

const brokenJson = fc.oneof(
  jsonObjectText.chain((text) =>
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)),
  ),
  fc.constantFrom(
    '',
    '{',
    '{"title":',
    '{"a":1,}',
    "{'title':'x'}",
    '{"title":"x"}}',
    '[',
    'NaN',
    '\u0000',
    '{"title":"\u0000"}',
    '{"title":"\\u0000"}',
    '{"__proto__":{"admin":true}}',
    '{"a":{"b":{"constructor":{"prototype":{"x":1}}}}}',
    '{"title":"x","title":"y"}',
  ),
)

const oversized = fc
  .integer({ min: 16 * 1024, max: 80 * 1024 })
  .map((n) => `{"title":"${'x'.repeat(n)}"}`)

const rawBytes = fc.uint8Array({ maxLength: 200 }).map((bytes) => [...bytes])

const jsonBody: fc.Arbitrary<string | number[]> = fc.oneof(
  { weight: 8, arbitrary: jsonObjectText },
  { weight: 1, arbitrary: jsonText },
  { weight: 2, arbitrary: brokenJson },
  { weight: 1, arbitrary: oversized },
  { weight: 1, arbitrary: rawBytes },
)

/** A urlencoded form with hostile fields (names repeated at will), the form's intents among them. */
function formBody(intents: string[]): fc.Arbitrary<string | number[]> {
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...FIELD_NAMES) },
    { weight: 1, arbitrary: hostileString },
  )
  const value = fc.oneof(
    { weight: 4, arbitrary: hostileString },
    ...(intents.length
      ? [{ weight: 2, arbitrary: fc.constantFrom(...intents) }]
      : []),
  )
  const urlencoded = fc
    .tuple(
      intents.length
        ? fc.option(fc.constantFrom(...intents))
        : fc.constant(null),
      fc.array(fc.tuple(name, value), { maxLength: 8 }),
    )
    .map(([intent, fields]) => {
      const form = new URLSearchParams()
      if (intent) form.append('intent', intent)
      for (const [k, v] of fields) form.append(k, v)
      return form.toString()
    })
  return fc.oneof(
    { weight: 8, arbitrary: urlencoded },
    { weight: 1, arbitrary: brokenJson },
    { weight: 1, arbitrary: oversized.map((text) => `title=${text}`) },
    { weight: 1, arbitrary: rawBytes },
  )
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'multipart/form-data',
  'application/xml',
  'application/csp-report',
  'application/reports+json',
  '',
]

/** Header-safe text (visible ASCII): headers cannot carry anything else. */
const headerText = fc.oneof(
  fc.constantFrom('', ' ', 'x'.repeat(101), '<script>', "' OR 1=1 --", '%00'),
  fc
    .string({ unit: 'binary-ascii', maxLength: 120 })
    .map((s) => s.replace(/[^\x20-\x7e]/g, '')),
)

/** A path parameter: the world's own value, or something hostile (encoded or raw). */
const pathParam = (real: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(real) },
    {
      weight: 3,
      arbitrary: hostileUrlString.map((s) => encodeURIComponent(wellFormed(s))),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '..',
        '.',
        '%',
        '%ZZ',
        '%00',
        '%2e%2e',
        '%2F',
        'a%2Fb',
        '%C0%AE',
        '%ED%A0%80',
        '%E0%A4%A',
        ';x=1',
        '~',
        'x'.repeat(2000),
        '00000000-0000-0000-0000-000000000000',
        '00000000-0000-0000-0000-00000000000g',
      ),
    },
    { weight: 1, arbitrary: fc.uuid() },
  )

const query = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...QUERY_NAMES) },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                '__proto__',
                'constructor[prototype][x]',
                '',
              ),
            },
            { weight: 1, arbitrary: hostileUrlString },
          ),
          fc.oneof(
            { weight: 3, arbitrary: hostileUrlString },
            { weight: 1, arbitrary: numberToken },
          ),
        ),
        { maxLength: 6 },
      )
      .map((pairs) => {
        const params = new URLSearchParams()
        for (const [k, v] of pairs) params.append(k, v)
        return `?${params}`
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '?limit=1&limit=2&limit=-1',
      '?cursor=%E0%A4%A&q=%',
      '?limit=1e400',
      '?limit=99999999999999999999999',
      '?from=2025-02-30&to=0000-00-00',
      '?status[]=x&status[]=y',
      '?code=%00',
      '?after=-1',
      '?_data=root',
      '?_data=routes%2F..%2F..',
      '?index&index',
    ),
  },
)

const OTHER_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

const PARAM_VALUES: Record<string, string> = {
  ':id': '{id}',
  ':roomCode': '{roomCode}',
  ':username': '{username}',
}

/** Requests for one endpoint of the app Worker. */
export function appRequests(
  endpoint: Endpoint,
  world: { username: string },
): fc.Arbitrary<FuzzRequest> {
  const idPlaceholder = endpoint.path.startsWith('/api/recordings/:id')
    ? '{recordingId}'
    : '{sessionId}'
  const segments = endpoint.path.split('/').map((segment) => {
    if (segment === '*')
      return fc
        .array(pathParam('no-such'), { minLength: 1, maxLength: 3 })
        .map((s) => s.join('/'))
    if (!segment.startsWith(':')) return fc.constant(segment)
    const real =
      segment === ':id'
        ? idPlaceholder
        : segment === ':username'
          ? world.username
          : (PARAM_VALUES[segment] ?? segment)
    return pathParam(real)
  })
  const intents = endpoint.intent ? [endpoint.intent] : []
  return fc
    .record({
      persona: fc.constantFrom(
        'host',
        'host',
        'host',
        'stranger',
        'anonymous',
      ) as fc.Arbitrary<FuzzRequest['persona']>,
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant(endpoint.method) },
        { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
      ),
      segments: fc.tuple(...segments),
      query,
      body: endpoint.kind === 'page' ? formBody(intents) : jsonBody,
      contentType: fc.oneof(
        {
          weight: 8,
          arbitrary: fc.constant(
            endpoint.kind === 'page'
              ? 'application/x-www-form-urlencoded'
              : 'application/json',
          ),
        },
        { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      ),
      origin: fc.oneof(
        { weight: 8, arbitrary: fc.constant(BASE_URL) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('', 'https://evil.example', 'null'),
        },
      ),
      idempotencyKey: fc.option(headerText, { freq: 4 }),
    })
    .map(
      ({
        persona,
        method,
        segments,
        query,
        body,
        contentType,
        origin,
        idempotencyKey,
      }) => {
        const headers: Record<string, string> = {}
        if (origin) headers.Origin = origin
        if (contentType) headers['Content-Type'] = contentType
        if (idempotencyKey !== null) headers['Idempotency-Key'] = idempotencyKey
        const hasBody = method !== 'GET' && method !== 'HEAD'
        return {
          worker: 'app' as const,
          persona,
          method,
          path: segments.join('/') + query,
          headers,
          ...(hasBody ? { body } : {}),
        }
      },
    )
}

/** A path into a JSON value and a hostile value to put there. */
function mutate(sample: unknown): fc.Arbitrary<unknown> {
  const paths: Array<Array<string | number>> = []
  const walk = (value: unknown, path: Array<string | number>) => {
    paths.push(path)
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]))
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k])
  }
  walk(sample, [])
  const hostileValue = fc.oneof(
    hostileString,
    numberToken.map(Number),
    fc.constantFrom(null, true, [], {}, -1, 1e308),
  )
  return fc
    .array(fc.tuple(fc.constantFrom(...paths.slice(1)), hostileValue), {
      minLength: 1,
      maxLength: 3,
    })
    .map((changes) => {
      const copy = structuredClone(sample) as Record<string, unknown>
      for (const [path, value] of changes) {
        let node: any = copy
        for (const step of path.slice(0, -1)) node = node?.[step]
        // A copy: the same `{}` put at two paths, one inside the other, would be a cycle.
        if (node && typeof node === 'object')
          node[path.at(-1)!] = structuredClone(value)
      }
      return copy
    })
}

/** Deliveries to the webhooks Worker: 100ms's own samples with hostile values, and worse. */
export function webhookRequests(): fc.Arbitrary<FuzzRequest> {
  const samples = allWebhookSamples()
  const body: fc.Arbitrary<string | number[]> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .constantFrom(...samples)
        .chain((sample) =>
          fc
            .tuple(mutate(sample), fc.uuid())
            .map(([event, id]) => JSON.stringify({ ...(event as object), id })),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...samples), jsonObjectText, fc.uuid())
        .map(
          ([sample, data, id]) =>
            `{"id":${JSON.stringify(id)},"type":${JSON.stringify(sample.type)},"timestamp":${JSON.stringify(sample.timestamp)},"version":"2.0","data":${data}}`,
        ),
    },
    { weight: 2, arbitrary: jsonBody },
  )
  return fc
    .record({
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant('POST') },
        { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
      ),
      path: fc.oneof(
        { weight: 9, arbitrary: fc.constant('/webhooks/100ms') },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            '/webhooks/100ms/',
            '/webhooks/%2e%2e/100ms',
            '/webhooks/100ms?x=%ZZ',
            '/',
            '/api/health',
          ),
        },
      ),
      body,
      contentType: fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      ),
      secret: fc.oneof(
        { weight: 8, arbitrary: fc.constant(TEST_WEBHOOK_SECRET) },
        { weight: 2, arbitrary: headerText },
      ),
    })
    .map(({ method, path, body, contentType, secret }) => ({
      worker: 'webhooks' as const,
      persona: 'anonymous' as const,
      method,
      path,
      headers: {
        ...(contentType ? { 'Content-Type': contentType } : {}),
        'x-kulti-webhook-secret': secret,
      },
      ...(method !== 'GET' && method !== 'HEAD' ? { body } : {}),
    }))
}

/** Client frames for the chat: the protocol's types with hostile values, and garbage. */
export const chatFrames: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.constantFrom('send', 'resume', 'question'), hostileString),
        jsonObjectText,
      )
      .map(
        ([type, rest]) =>
          `{"type":${JSON.stringify(type)}${rest === '{}' ? '' : `,${rest.slice(1, -1)}`}}`,
      ),
  },
  {
    weight: 2,
    arbitrary: hostileString.map((text) =>
      JSON.stringify({ type: 'send', text }),
    ),
  },
  { weight: 1, arbitrary: brokenJson },
  { weight: 1, arbitrary: jsonText },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 8 * 1024, max: 40 * 1024 })
      .map((n) => JSON.stringify({ type: 'send', text: 'é'.repeat(n / 2) })),
  },
)
