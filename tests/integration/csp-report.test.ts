import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { BASE_URL, useWorkersOnTestDatabase } from '../support/workers'

// POST /api/csp-report (the CSP's report-uri and report-to): both report formats, scrubbed, logged
// once, forwarded to monitoring (Sentry, here a stand-in ingest that keeps what it receives), and
// bounded in size and rate.

/** A Sentry ingest on loopback: the envelopes toucan-js posts, as text. */
const ingest: { server?: Server; envelopes: string[]; url: string } = {
  envelopes: [],
  url: '',
}
beforeAll(async () => {
  ingest.server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      ingest.envelopes.push(body)
      response.writeHead(200, { 'Content-Type': 'application/json' })
      response.end('{}')
    })
  })
  await new Promise<void>((resolve) =>
    ingest.server!.listen(0, '127.0.0.1', resolve),
  )
  const { port } = ingest.server.address() as AddressInfo
  ingest.url = `http://publickey@127.0.0.1:${port}/1`
})
afterAll(() => new Promise((resolve) => ingest.server?.close(resolve)))

const stack = useWorkersOnTestDatabase(() => ({
  SENTRY_DSN: ingest.url,
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'csp-report': { limit: 5, periodSeconds: 60 },
  }),
}))

let address = 0
/** Each test reports from its own address, so the rate limit test alone reaches the limit. */
const freshIp = () => `192.0.2.${++address}`

function report(
  body: unknown,
  {
    type = 'application/csp-report',
    origin = BASE_URL,
    ip = freshIp(),
  }: { type?: string; origin?: string | null; ip?: string } = {},
) {
  return stack.workers.app('/api/csp-report', {
    method: 'POST',
    headers: {
      'Content-Type': type,
      'CF-Connecting-IP': ip,
      ...(origin ? { Origin: origin } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

/** The log lines that report a CSP violation, once the Worker had time to write them. */
async function violationLines(from: number, expected: number) {
  const deadline = Date.now() + 2_000
  for (;;) {
    const lines = stack.workers
      .logs()
      .slice(from)
      .filter((line) => line.includes('CSP violation'))
    if (lines.length >= expected || Date.now() > deadline) {
      // A little longer, so that a line too many would be seen too.
      await new Promise((resolve) => setTimeout(resolve, 300))
      return stack.workers
        .logs()
        .slice(from)
        .filter((line) => line.includes('CSP violation'))
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const SECRETS = [
  's3cr3t-token',
  'abc123',
  'VIBE-2K4F',
  'hunter2',
  '+15551234567',
]

function expectScrubbed(text: string) {
  for (const secret of SECRETS) expect(text).not.toContain(secret)
  expect(text).not.toMatch(/\?\w+=/)
}

const legacy = (overrides: Record<string, unknown> = {}) => ({
  'csp-report': {
    'document-uri': 'https://kulti.example/s/VIBE-2K4F?token=s3cr3t-token#frag',
    referrer: 'https://kulti.example/login?phone=%2B15551234567',
    'violated-directive': 'script-src-elem',
    'effective-directive': 'script-src-elem',
    'original-policy': "default-src 'self'",
    disposition: 'enforce',
    'blocked-uri': 'https://evil.example/x.js?session=abc123',
    'line-number': 12,
    'column-number': 34,
    'source-file': 'https://user:hunter2@kulti.example/build/app.js?v=abc123',
    'status-code': 200,
    'script-sample': 'steal(s3cr3t-token)',
    ...overrides,
  },
})

describe('a CSP report', () => {
  test('report-uri (application/csp-report): logged once, scrubbed, and sent to monitoring', async () => {
    const from = stack.workers.logs().length
    const envelopes = ingest.envelopes.length
    const response = await report(legacy())
    expect(response.status).toBe(204)
    const lines = await violationLines(from, 1)
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!) as Record<string, any>
    expect(line.level).toBe('error')
    expect(line.msg).toBe(
      'CSP violation: script-src-elem blocked https://evil.example/x.js on /s/:roomCode',
    )
    expect(line.csp).toEqual({
      documentUrl: 'https://kulti.example/s/:roomCode',
      blocked: 'https://evil.example/x.js',
      directive: 'script-src-elem',
      disposition: 'enforce',
      sourceFile: 'https://kulti.example/build/app.js',
      line: 12,
      column: 34,
    })
    expectScrubbed(lines[0]!)
    // The same violation went to Sentry, as scrubbed as the line.
    const deadline = Date.now() + 2_000
    while (ingest.envelopes.length === envelopes && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50))
    const sent = ingest.envelopes.slice(envelopes).join('\n')
    expect(sent).toContain('CSP violation: script-src-elem blocked')
    expectScrubbed(sent)
  })

  test('report-to (application/reports+json): each violation of a batch, other report types ignored', async () => {
    const from = stack.workers.logs().length
    const response = await report(
      [
        {
          type: 'csp-violation',
          age: 10,
          url: 'https://kulti.example/dashboard?x=abc123',
          user_agent: 'Chrome',
          body: {
            documentURL: 'https://kulti.example/dashboard?x=abc123',
            blockedURL: 'inline',
            effectiveDirective: 'script-src-elem',
            disposition: 'enforce',
            lineNumber: 1,
            columnNumber: 2,
          },
        },
        {
          type: 'csp-violation',
          body: {
            documentURL: `https://kulti.example/recordings/${crypto.randomUUID()}`,
            blockedURL: 'http://127.0.0.1:9/file.mp4?signature=abc123',
            effectiveDirective: 'media-src',
            disposition: 'report',
          },
        },
        { type: 'deprecation', body: { id: 'x', message: 'old API' } },
      ],
      { type: 'application/reports+json' },
    )
    expect(response.status).toBe(204)
    const lines = await violationLines(from, 2)
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual([
      'CSP violation: script-src-elem blocked inline on /dashboard',
      'CSP violation: media-src blocked http://127.0.0.1:9/file.mp4 on /recordings/:id',
    ])
    for (const line of lines) expectScrubbed(line)
  })

  test('the same violation reported again is logged once', async () => {
    const once = legacy({ 'document-uri': 'https://kulti.example/credits' })
    const from = stack.workers.logs().length
    expect((await report(once)).status).toBe(204)
    expect((await report(once)).status).toBe(204)
    expect(await violationLines(from, 2)).toHaveLength(1)
  })

  test('what is not a report is refused and logs nothing', async () => {
    const from = stack.workers.logs().length
    const refusals = [
      [await report(legacy(), { type: 'application/json' }), 415],
      [await report(legacy(), { type: 'text/plain' }), 415],
      [await report({ hello: 'world' }), 400],
      [await report('{"csp-report":'), 400],
      [
        await report(legacy({ 'document-uri': 'https://kulti.example/x' })),
        204,
      ],
      [await report('{"csp-report":{"__proto__":{"x":1}}}'), 400],
      [await report([{ type: 'csp-violation', body: { nope: 1 } }]), 400],
      [
        await report(legacy({ 'script-sample': 'x'.repeat(17 * 1024) }), {}),
        413,
      ],
      // A page on another site cannot post reports in our name (the CSRF check).
      [await report(legacy(), { origin: 'https://evil.example' }), 403],
    ] as const
    for (const [response, status] of refusals) {
      expect(response.status).toBe(status)
      if (status !== 204) {
        const body = (await response.json()) as { error: { code: string } }
        expect(typeof body.error.code).toBe('string')
      }
    }
    // Only the one well-formed report above was logged.
    expect(await violationLines(from, 1)).toHaveLength(1)
  })

  test('GET is not a way in', async () => {
    const response = await stack.workers.app('/api/csp-report')
    expect(response.status).toBe(405)
    expect(response.headers.get('Allow')).toBe('POST')
  })

  test('one address gets 5 reports a minute here (csp-report policy), then 429 with Retry-After', async () => {
    const ip = freshIp()
    const statuses: number[] = []
    let last: Response | undefined
    for (let i = 0; i < 6; i++) {
      last = await report(
        legacy({ 'document-uri': `https://kulti.example/page-${i}` }),
        { ip },
      )
      statuses.push(last.status)
    }
    expect(statuses).toEqual([204, 204, 204, 204, 204, 429])
    expect(Number(last!.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect(last!.headers.get('RateLimit-Policy')).toContain('"csp-report"')
  })
})
