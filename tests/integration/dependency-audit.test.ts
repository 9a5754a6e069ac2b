import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { productionDependencies } from '../../scripts/lib/audit.mjs'

// The dependency audit `npm run check` runs (scripts/audit.mjs), with the real npm client against a
// stand-in for the registry's advisory service: what fails the check, how a reviewed advisory is
// accepted, and that an unreachable service fails closed unless this exact dependency set was
// accepted offline, for a while.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** What the stand-in answers to npm's bulk advisory request. */
let answer: { status: number; advisories: Record<string, unknown[]> } = {
  status: 200,
  advisories: {},
}
let server: Server
let registry = ''
const dir = mkdtempSync(path.join(tmpdir(), 'kulti-audit-'))

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      if (
        request.method === 'POST' &&
        request.url?.includes('/advisories/bulk')
      ) {
        response.writeHead(answer.status, {
          'Content-Type': 'application/json',
        })
        response.end(
          answer.status === 200 ? JSON.stringify(answer.advisories) : '',
        )
        return
      }
      // npm also asks for packuments (to say whether a fix exists): none here.
      response.writeHead(404, { 'Content-Type': 'application/json' })
      response.end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

const day = (offset: number) =>
  new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)

// npm keeps advisories it has seen in its cache by their numeric id: each one here is new.
const advisory = (severity: string, ghsa = 'GHSA-abcd-efgh-ijkl') => ({
  hono: [
    {
      id: 10_000_000 + Math.floor(Math.random() * 1e9),
      url: `https://github.com/advisories/${ghsa}`,
      title: 'A test advisory',
      severity,
      vulnerable_versions: '<99.0.0',
      cwe: [],
      cvss: { score: 8, vectorString: null },
    },
  ],
})

const fingerprint = productionDependencies(
  JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')),
)

function audit(allowlist: unknown): Promise<{ code: number; output: string }> {
  const file = path.join(dir, `${crypto.randomUUID()}.json`)
  writeFileSync(file, JSON.stringify(allowlist))
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['scripts/audit.mjs', '--registry', registry, '--allowlist', file],
      { cwd: ROOT, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          output: stdout + stderr,
        }),
    )
  })
}

describe('the dependency audit', { timeout: 120_000 }, () => {
  test('a high advisory in a production dependency fails the check, named', async () => {
    answer = { status: 200, advisories: advisory('high') }
    const { code, output } = await audit({ advisories: [] })
    expect(code).toBe(1)
    expect(output).toContain(
      'high GHSA-abcd-efgh-ijkl in hono: A test advisory',
    )
  })

  test('a critical one too; a moderate one does not', async () => {
    answer = { status: 200, advisories: advisory('critical') }
    expect((await audit({})).code).toBe(1)
    answer = { status: 200, advisories: advisory('moderate') }
    const moderate = await audit({})
    expect(moderate.code).toBe(0)
    expect(moderate.output).toContain('no unaccepted high or critical advisory')
  })

  test('a reviewed advisory is accepted with a reason until a date, and fails again after it', async () => {
    answer = { status: 200, advisories: advisory('high') }
    const entry = {
      id: 'GHSA-abcd-efgh-ijkl',
      package: 'hono',
      reason: 'Only the JSX renderer is affected; we do not use it.',
    }
    const accepted = await audit({
      advisories: [{ ...entry, expires: day(30) }],
    })
    expect(accepted.code).toBe(0)
    expect(accepted.output).toContain(`accepted until ${day(30)}`)
    const lapsed = await audit({ advisories: [{ ...entry, expires: day(-1) }] })
    expect(lapsed.code).toBe(1)
    expect(lapsed.output).toContain('which has passed; review it again')
    const unexplained = await audit({
      advisories: [{ ...entry, reason: '', expires: day(30) }],
    })
    expect(unexplained.code).toBe(1)
    expect(unexplained.output).toContain('says no reason')
  })

  test('an advisory service that does not answer fails the check: nothing was checked', async () => {
    answer = { status: 405, advisories: {} }
    const { code, output } = await audit({})
    expect(code).toBe(1)
    expect(output).toContain('the production dependencies were NOT checked')
    expect(output).toContain(fingerprint)
  })

  test('offline, an acceptance of exactly these production dependencies passes until its date', async () => {
    answer = { status: 405, advisories: {} }
    const offline = {
      reason: 'The CI registry mirror has no advisory service.',
      productionDependencies: fingerprint,
    }
    const accepted = await audit({ offline: { ...offline, expires: day(7) } })
    expect(accepted.code).toBe(0)
    expect(accepted.output).toContain(`accepted offline until ${day(7)}`)
    const lapsed = await audit({ offline: { ...offline, expires: day(-1) } })
    expect(lapsed.code).toBe(1)
    const otherSet = await audit({
      offline: {
        ...offline,
        expires: day(7),
        productionDependencies: 'a'.repeat(64),
      },
    })
    expect(otherSet.code).toBe(1)
    expect(otherSet.output).toContain('is for other production dependencies')
  })
})
