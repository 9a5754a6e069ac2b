import { describe, expect, test } from 'vitest'
import { safeRedirect } from './session.server'

describe('safeRedirect', () => {
  test('keeps paths on our own site, with their query and fragment', () => {
    expect(safeRedirect('/settings')).toBe('/settings')
    expect(safeRedirect('/u/ada?tab=about#bio')).toBe('/u/ada?tab=about#bio')
  })

  test('anything that a browser would take off-site falls back to the dashboard', () => {
    for (const attempt of [
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      '/\r\n/evil.example',
      '\\\\evil.example',
      'https://evil.example',
      'javascript:alert(1)',
      'evil.example',
      '',
    ]) {
      expect(safeRedirect(attempt), JSON.stringify(attempt)).toBe('/dashboard')
    }
    expect(safeRedirect(null)).toBe('/dashboard')
    expect(safeRedirect(undefined, '/welcome')).toBe('/welcome')
  })
})
