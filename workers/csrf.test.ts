import { describe, expect, test } from 'vitest'
import { refuseCrossSiteMutation } from './csrf'

const URL_ = 'https://kulti.example/api/me'

function request(method: string, headers: Record<string, string> = {}) {
  return new Request(URL_, { method, headers })
}

describe('refuseCrossSiteMutation', () => {
  test('reads are never refused', () => {
    expect(
      refuseCrossSiteMutation(
        request('GET', { Origin: 'https://evil.example' }),
      ),
    ).toBeNull()
  })

  test('a mutation from our own origin passes; from another origin it is 403', () => {
    expect(
      refuseCrossSiteMutation(
        request('POST', { Origin: 'https://kulti.example' }),
      ),
    ).toBeNull()
    expect(
      refuseCrossSiteMutation(
        request('POST', { Origin: 'https://evil.example' }),
      )?.status,
    ).toBe(403)
    expect(
      refuseCrossSiteMutation(request('PUT', { Origin: 'null' }))?.status,
    ).toBe(403)
    expect(
      refuseCrossSiteMutation(
        request('DELETE', { Origin: 'https://kulti.example.evil.example' }),
      )?.status,
    ).toBe(403)
  })

  test('APP_URL counts as our origin too', () => {
    expect(
      refuseCrossSiteMutation(
        request('POST', { Origin: 'https://www.kulti.example' }),
        'https://www.kulti.example',
      ),
    ).toBeNull()
  })

  test('without an Origin only JSON is accepted (a cross-site form cannot send JSON)', () => {
    expect(
      refuseCrossSiteMutation(
        request('POST', { 'Content-Type': 'application/json' }),
      ),
    ).toBeNull()
    expect(
      refuseCrossSiteMutation(
        request('POST', {
          'Content-Type': 'application/x-www-form-urlencoded',
        }),
      )?.status,
    ).toBe(403)
    expect(
      refuseCrossSiteMutation(request('POST', { 'Content-Type': 'text/plain' }))
        ?.status,
    ).toBe(403)
    expect(refuseCrossSiteMutation(request('POST'))?.status).toBe(403)
    expect(
      refuseCrossSiteMutation(
        request('POST', {
          'Content-Type': 'application/json',
          'Sec-Fetch-Site': 'cross-site',
        }),
      )?.status,
    ).toBe(403)
  })
})
