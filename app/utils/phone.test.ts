import { describe, expect, test } from 'vitest'
import { maskedPhone } from './phone'

describe('maskedPhone', () => {
  test('shows the calling code and the last 4 digits, nothing in between', () => {
    expect(maskedPhone('+15555550177')).toBe('+1 ••• ••• 0177')
    expect(maskedPhone('+442079460958')).toBe('+44 ••• ••• 0958')
    expect(maskedPhone('+353861234567')).toBe('+353 ••• ••• 4567')
    expect(maskedPhone('+79161234567')).toBe('+7 ••• ••• 4567')
  })

  test('the hidden digits appear nowhere in the result', () => {
    const masked = maskedPhone('+442079460958')
    expect(masked).not.toMatch(/2079/)
    expect(masked.replace(/\D/g, '')).toBe('440958')
  })
})
