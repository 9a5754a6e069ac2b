import { describe, expect, test } from 'vitest'
import { securityHeaders } from '../../workers/security-headers'
import {
  defaultWebhooksUrl,
  formatTable,
  headerProblems,
  parseSmokeArgs,
  phoneFormProblems,
  scriptNonceProblems,
  UsageError,
} from './smoke'

// `npm run smoke`'s rules, each against what the Workers really produce (workers/security-headers.ts)
// and against the ways a deployment can drift from SPEC §7.
const NONCE = 'AAAAAAAAAAAAAAAAAAAAAA=='

describe('arguments', () => {
  test('npm run dev: the webhooks Worker defaults to 8788 on the same host', () => {
    const options = parseSmokeArgs(['http://127.0.0.1:8787'])
    expect(options.baseUrl.origin).toBe('http://127.0.0.1:8787')
    expect(options.webhooksUrl.origin).toBe('http://127.0.0.1:8788')
    expect(options.timeoutMs).toBe(10_000)
    expect(defaultWebhooksUrl(new URL('http://localhost:8787'))?.origin).toBe(
      'http://localhost:8788',
    )
  })

  test('a deployment: the webhooks URL as second argument or --webhooks, trailing slash allowed', () => {
    for (const argv of [
      ['https://kulti.example/', 'https://webhooks.kulti.example'],
      [
        'https://kulti.example',
        '--webhooks',
        'https://webhooks.kulti.example/',
      ],
      ['--webhooks=https://webhooks.kulti.example', 'https://kulti.example'],
    ]) {
      const options = parseSmokeArgs(argv)
      expect(options.baseUrl.origin).toBe('https://kulti.example')
      expect(options.webhooksUrl.origin).toBe('https://webhooks.kulti.example')
    }
    expect(
      parseSmokeArgs([
        'https://k.example',
        'https://w.example',
        '--timeout',
        '2.5',
      ]).timeoutMs,
    ).toBe(2500)
  })

  test.each([
    [[], /base URL/],
    [['https://kulti.example'], /webhooks Worker's URL/],
    [['http://127.0.0.1:9999'], /webhooks Worker's URL/],
    [['kulti.example', 'https://w.example'], /not a URL/],
    [['ftp://kulti.example', 'https://w.example'], /http\(s\)/],
    [
      ['https://kulti.example/api/health', 'https://w.example'],
      /without a path/,
    ],
    [['https://w.example/webhooks/100ms'], /without a path/],
    [
      [
        'https://k.example',
        'https://w.example',
        '--webhooks',
        'https://w.example',
      ],
      /once/,
    ],
    [
      ['https://k.example', 'https://w.example', 'https://x.example'],
      /unexpected/,
    ],
    [['https://k.example', 'https://w.example', '--timeout', '0'], /--timeout/],
    [['https://k.example', 'https://w.example', '--timeout'], /needs a value/],
    [
      ['https://k.example', 'https://w.example', '--verbose', 'x'],
      /unknown option/,
    ],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSmokeArgs(argv)).toThrow(UsageError)
    expect(() => parseSmokeArgs(argv)).toThrow(message)
  })
})

describe('security headers', () => {
  test('what the Workers send passes, in each variant', () => {
    for (const https of [true, false]) {
      const headers = new Headers(securityHeaders(NONCE, { https }))
      expect(headerProblems(headers, { nonce: true, https })).toEqual([])
    }
    // The webhooks Worker and static files: no nonce, the https variant.
    expect(
      headerProblems(new Headers(securityHeaders()), {
        nonce: false,
        https: true,
      }),
    ).toEqual([])
  })

  test('a missing, changed or extra header or directive is named', () => {
    const sent = securityHeaders(NONCE, { https: true })
    const cases: Array<[Record<string, string>, string]> = [
      [
        { ...sent, 'X-Frame-Options': 'SAMEORIGIN' },
        'x-frame-options: SAMEORIGIN',
      ],
      [
        Object.fromEntries(
          Object.entries(sent).filter(
            ([n]) => n !== 'Strict-Transport-Security',
          ),
        ),
        'strict-transport-security missing',
      ],
      [
        {
          ...sent,
          'Content-Security-Policy': sent['Content-Security-Policy']!.replace(
            "object-src 'none'; ",
            '',
          ),
        },
        'content-security-policy: no object-src',
      ],
      [
        {
          ...sent,
          'Content-Security-Policy':
            sent['Content-Security-Policy']! +
            "; script-src-attr 'unsafe-inline'",
        },
        "content-security-policy script-src-attr: 'unsafe-inline'",
      ],
      [
        {
          ...sent,
          'Content-Security-Policy': sent['Content-Security-Policy']!.replace(
            `'nonce-${NONCE}'`,
            "'unsafe-inline'",
          ),
        },
        'content-security-policy: no 128-bit nonce in script-src',
      ],
    ]
    for (const [headers, problem] of cases)
      expect(
        headerProblems(new Headers(headers), { nonce: true, https: true }),
      ).toContain(problem)
  })

  test('the http variant over https (and the reverse) is a problem', () => {
    const http = new Headers(securityHeaders(NONCE, { https: false }))
    expect(headerProblems(http, { nonce: true, https: true })).toEqual([
      'reporting-endpoints missing',
      'content-security-policy: no report-to',
    ])
    const https = new Headers(securityHeaders(NONCE, { https: true }))
    expect(headerProblems(https, { nonce: true, https: false })).toEqual([
      'reporting-endpoints: csp="/api/csp-report"',
      'content-security-policy report-to: csp',
    ])
  })

  test('a nonce where scripts should come from our origin only', () => {
    const headers = new Headers(securityHeaders(NONCE))
    expect(headerProblems(headers, { nonce: false, https: true })).toContain(
      'content-security-policy: a nonce where none is expected',
    )
  })
})

describe('page contents', () => {
  test('scripts must all carry the nonce', () => {
    const good = `<script nonce="${NONCE}">a</script><script nonce="${NONCE}" src="/b.js"></script>`
    expect(scriptNonceProblems(good, NONCE)).toEqual([])
    expect(
      scriptNonceProblems(`${good}<script src="/c.js"></script>`, NONCE),
    ).toEqual(['1 of 3 <script> tags without the nonce'])
    expect(scriptNonceProblems('<p>no scripts</p>', NONCE)).toEqual([
      'no <script> tag',
    ])
  })

  test('the sign-in form', () => {
    const form =
      '<form method="post" class="stack"><input type="tel" name="phone" required/><button type="submit" name="intent" value="send">Text me a code</button></form>'
    expect(phoneFormProblems(form)).toEqual([])
    expect(phoneFormProblems('<h1>Sign in</h1>')).toEqual([
      'no POST form',
      'no phone input',
      'no send button',
    ])
  })
})

test('the table: one line per check, and a summary that names failures', () => {
  const table = formatTable([
    { name: 'health', ok: true, detail: '200 ok', ms: 12.4 },
    { name: 'landing page', ok: false, detail: 'answered 500', ms: 1234 },
    { name: 'outbox', ok: true, skipped: true, detail: 'http', ms: 3 },
  ])
  expect(table.split('\n')).toEqual([
    'result  check            time  detail',
    '------  ------------  -------  ------------',
    'PASS    health          12 ms  200 ok',
    'FAIL    landing page  1234 ms  answered 500',
    'SKIP    outbox           3 ms  http',
    '',
    'smoke: 1 passed, 1 failed, 1 skipped (FAILED)',
  ])
})
