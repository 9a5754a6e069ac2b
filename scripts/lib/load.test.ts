import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { HmsWebhookEnvelope } from '../../app/utils/validation'
import {
  buildScenarios,
  formatLoadTable,
  parseLoadArgs,
  SCENARIO_NAMES,
  summarise,
  UsageError,
  webhookTemplate,
  withFreshId,
} from './load'

// `npm run load`'s arguments, scenarios and table. The load itself runs against npm run dev (its
// output is in docs/runbook.md, "Slowness").
const SAMPLE = readFileSync(
  path.resolve(
    path.dirname(fileURLToPath(import.meta.url)),
    '../../tests/fixtures/100ms/webhooks/peer.join.success.json',
  ),
  'utf8',
)
const COOKIE = 'kulti_session=abc.def'

describe('arguments', () => {
  test('defaults: every scenario, 100 connections, 10 s, npm run dev’s webhooks Worker', () => {
    const options = parseLoadArgs(['http://127.0.0.1:8787'])
    expect(options).toMatchObject({
      durationSeconds: 10,
      connections: 100,
      scenarios: [...SCENARIO_NAMES],
      cookie: undefined,
    })
    expect(options.webhooksUrl?.origin).toBe('http://127.0.0.1:8788')
  })

  test('options and a staging deployment', () => {
    const options = parseLoadArgs([
      'https://staging.kulti.example',
      '--webhooks=https://webhooks.staging.kulti.example',
      '--duration',
      '30',
      '--connections',
      '250',
      '--scenarios',
      'dashboard, webhooks,dashboard',
      '--cookie',
      COOKIE,
    ])
    expect(options).toMatchObject({
      durationSeconds: 30,
      connections: 250,
      scenarios: ['dashboard', 'webhooks'],
      cookie: COOKIE,
    })
    expect(options.webhooksUrl?.origin).toBe(
      'https://webhooks.staging.kulti.example',
    )
    // Without the webhooks scenario, no webhooks URL is needed.
    expect(
      parseLoadArgs(['https://k.example', '--scenarios', 'landing'])
        .webhooksUrl,
    ).toBeNull()
  })

  test.each([
    [[], /base URL/],
    [['https://k.example'], /webhooks Worker's URL/],
    [['http://127.0.0.1:8787', '--scenarios', 'checkout'], /unknown scenario/],
    [['http://127.0.0.1:8787', '--scenarios', ','], /empty/],
    [['http://127.0.0.1:8787', '--duration', '0'], /--duration/],
    [['http://127.0.0.1:8787', '--duration', '1.5'], /--duration/],
    [['http://127.0.0.1:8787', '--connections', '5000'], /--connections/],
    [['http://127.0.0.1:8787', '--cookie', 'session=1'], /--cookie/],
    [['http://127.0.0.1:8787/dashboard'], /without a path/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseLoadArgs(argv)).toThrow(UsageError)
    expect(() => parseLoadArgs(argv)).toThrow(message)
  })
})

describe('scenarios', () => {
  test('each scenario’s request; the signed-in ones carry the cookie', () => {
    const scenarios = buildScenarios(parseLoadArgs(['http://127.0.0.1:8787']), {
      cookie: COOKIE,
      webhookSecret: 'a-webhook-secret-0123456789',
      webhookSample: SAMPLE,
    })
    expect(
      scenarios.map((s) => [s.name, s.method, s.url, s.headers.cookie]),
    ).toEqual([
      ['landing', 'GET', 'http://127.0.0.1:8787/', undefined],
      ['dashboard', 'GET', 'http://127.0.0.1:8787/dashboard', COOKIE],
      ['sessions', 'GET', 'http://127.0.0.1:8787/api/sessions', undefined],
      [
        'recordings',
        'GET',
        'http://127.0.0.1:8787/api/recordings/list',
        COOKIE,
      ],
      ['webhooks', 'POST', 'http://127.0.0.1:8788/webhooks/100ms', undefined],
    ])
    const webhook = scenarios.at(-1)!
    expect(webhook.headers['x-kulti-webhook-secret']).toBe(
      'a-webhook-secret-0123456789',
    )
    expect(webhook.expect).toBe('"applied":true')
  })

  test('a signed-in scenario without a cookie is a mistake of the caller', () => {
    expect(() =>
      buildScenarios(
        parseLoadArgs(['http://127.0.0.1:8787', '--scenarios', 'dashboard']),
        {},
      ),
    ).toThrow(/cookie/)
  })

  test('every webhook body is a valid 100ms event with its own id', () => {
    const template = webhookTemplate(
      SAMPLE,
      new Date('2026-05-01T10:00:00.123Z'),
    )
    const [a, b] = [withFreshId(template), withFreshId(template)].map((body) =>
      HmsWebhookEnvelope.parse(JSON.parse(body)),
    )
    expect(a!.id).toMatch(/^load-[0-9a-f-]{36}$/)
    expect(a!.id).not.toBe(b!.id)
    expect(JSON.parse(template).timestamp).toBe('2026-05-01T10:00:00Z')
    expect(a!.type).toBe('peer.join.success')
  })
})

test('the table: Markdown, one row per scenario, errors include wrong bodies', () => {
  const row = summarise('webhook ingestion', {
    duration: 10,
    latency: { p50: 101.4, p99: 250.6 },
    requests: { total: 1234, average: 123 },
    errors: 3,
    timeouts: 2,
    non2xx: 4,
    mismatches: 5,
    statusCodeStats: { '200': { count: 1225 }, '503': { count: 4 } },
  })
  expect(row).toMatchObject({ requests: 1234, perSecond: 123.4, errors: 12 })
  expect(
    formatLoadTable([row], { connections: 100, durationSeconds: 10 }).split(
      '\n',
    ),
  ).toEqual([
    '100 connections, 10 s per scenario',
    '',
    '| scenario          | requests | req/s | p50 ms | p99 ms | errors | answers                                                    |',
    '| ----------------- | -------: | ----: | -----: | -----: | -----: | ---------------------------------------------------------- |',
    '| webhook ingestion |     1234 | 123.4 |    101 |    251 |     12 | 200×1225 503×4 wrong body×5 timeouts×2 connection errors×1 |',
  ])
})
