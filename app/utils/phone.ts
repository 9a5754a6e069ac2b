/**
 * How pages show a phone number (SPEC §1): the country code and the last 4 digits only,
 * `+1 ••• ••• 0177`, so a screenshot or a shoulder never reveals a whole number.
 */
export function maskedPhone(e164: string): string {
  const digits = e164.replace(/\D/g, '')
  const country = digits.slice(0, callingCodeLength(digits))
  return `+${country} ••• ••• ${digits.slice(-4)}`
}

// ITU-T E.164 calling codes are a prefix code of 1–3 digits. Zones 1 and 7 use one digit; in the
// others these two-digit prefixes are whole codes and every other prefix takes a third digit.
const TWO_DIGIT_CODES = new Set(
  (
    '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 ' +
    '60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'
  ).split(' '),
)

function callingCodeLength(digits: string): number {
  if (digits.startsWith('1') || digits.startsWith('7')) return 1
  return TWO_DIGIT_CODES.has(digits.slice(0, 2)) ? 2 : 3
}
