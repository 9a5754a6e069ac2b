import { describe, expect, test } from 'vitest'
import { AvatarUrl, Phone, Username } from './validation'

describe('Phone', () => {
  test('normalises the ways people write numbers to one E.164 form', () => {
    for (const written of [
      '+44 20 7946 0958',
      '+44 (0)20 7946 0958',
      '+44(0)2079460958',
      '0044 20 7946 0958',
      '+44-20-7946-0958',
    ]) {
      expect(Phone.parse(written), written).toBe('+442079460958')
    }
    expect(Phone.parse('+1 (555) 123-4567')).toBe('+15551234567')
  })

  test('refuses what is not an international number', () => {
    for (const bad of [
      '020 7946 0958',
      '+0 123456789',
      '+1234567',
      '+1234567890123456',
      'phone',
      '',
    ]) {
      expect(Phone.safeParse(bad).success, bad).toBe(false)
    }
  })
})

describe('Username', () => {
  test('is stored lowercase and limited to a-z 0-9 _ -', () => {
    expect(Username.parse('Ada_Lovelace')).toBe('ada_lovelace')
    expect(Username.safeParse('ab').success).toBe(false)
    expect(Username.safeParse('a'.repeat(21)).success).toBe(false)
    expect(Username.safeParse('no spaces').success).toBe(false)
  })
})

describe('AvatarUrl', () => {
  test('accepts https links or nothing', () => {
    expect(AvatarUrl.parse('https://example.com/me.png')).toBe(
      'https://example.com/me.png',
    )
    expect(AvatarUrl.parse('')).toBeNull()
    for (const bad of [
      'http://example.com/me.png',
      'javascript:alert(1)',
      'data:image/png;base64,AAAA',
      'https://',
    ]) {
      expect(AvatarUrl.safeParse(bad).success, bad).toBe(false)
    }
  })
})
