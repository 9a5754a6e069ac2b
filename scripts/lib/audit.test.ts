import { describe, expect, test } from 'vitest'
import { failingAdvisories, productionDependencies } from './audit.mjs'

describe('the production dependency fingerprint', () => {
  const lock = {
    packages: {
      '': { version: '0.1.0' },
      'node_modules/hono': { version: '4.13.19' },
      'node_modules/vitest': { version: '4.1.12', dev: true },
      'node_modules/fsevents': { version: '2.3.3', devOptional: true },
    },
  }

  test('changes with a shipped package, not with a dev-only one', () => {
    const before = productionDependencies(lock)
    const devBump = structuredClone(lock)
    devBump.packages['node_modules/vitest'].version = '4.2.0'
    expect(productionDependencies(devBump)).toBe(before)
    const shipped = structuredClone(lock)
    shipped.packages['node_modules/hono'].version = '4.13.20'
    expect(productionDependencies(shipped)).not.toBe(before)
    const added = structuredClone(lock) as typeof lock & {
      packages: Record<string, { version: string }>
    }
    added.packages['node_modules/left-pad'] = { version: '1.3.0' }
    expect(productionDependencies(added)).not.toBe(before)
  })
})

describe('failing advisories', () => {
  test('high and critical ones, once each however many paths lead to them', () => {
    const via = (severity: string, ghsa: string) => ({
      source: 1,
      name: 'cookie',
      title: `a ${severity} one`,
      url: `https://github.com/advisories/${ghsa}`,
      severity,
    })
    const report = {
      vulnerabilities: {
        cookie: {
          via: [
            via('high', 'GHSA-aaaa-bbbb-cccc'),
            via('low', 'GHSA-dddd-eeee-ffff'),
          ],
        },
        '@remix-run/server-runtime': {
          // A dependent names the package it inherits from, not the advisory again.
          via: ['cookie', via('high', 'GHSA-aaaa-bbbb-cccc')],
        },
        'other-thing': { via: [via('critical', 'GHSA-gggg-hhhh-iiii')] },
      },
    }
    expect(failingAdvisories(report).map((a) => [a.id, a.severity])).toEqual([
      ['GHSA-aaaa-bbbb-cccc', 'high'],
      ['GHSA-gggg-hhhh-iiii', 'critical'],
    ])
  })
})
