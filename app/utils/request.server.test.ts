import { describe, expect, test } from 'vitest'
import { ipPrefix, rateLimitNetwork } from './request.server'

describe('ipPrefix', () => {
  test('keeps the network, not the person', () => {
    expect(ipPrefix('203.0.113.77')).toBe('203.0.113.0/24')
    expect(ipPrefix('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe(
      '2001:db8:85a3::/48',
    )
    expect(ipPrefix('2001:db8::1')).toBe('2001:db8:0::/48')
    expect(ipPrefix('unknown')).toBeNull()
  })
})

describe('rateLimitNetwork', () => {
  test('an IPv4 address counts alone', () => {
    expect(rateLimitNetwork('203.0.113.77')).toBe('203.0.113.77')
  })

  test('every address of one IPv6 /64 counts as one, however it is written', () => {
    const spellings = [
      '2001:db8:abcd:12::1',
      '2001:0db8:abcd:0012:ffff:ffff:ffff:ffff',
      '2001:DB8:ABCD:12:1234:5678:9abc:def0',
    ]
    expect(new Set(spellings.map(rateLimitNetwork))).toEqual(
      new Set(['2001:db8:abcd:12::/64']),
    )
    expect(rateLimitNetwork('2001:db8:abcd:13::1')).not.toBe(
      rateLimitNetwork('2001:db8:abcd:12::1'),
    )
  })

  test('something that is not an address is used as it is', () => {
    expect(rateLimitNetwork('unknown')).toBe('unknown')
    expect(rateLimitNetwork('1:2:3')).toBe('1:2:3')
  })
})
