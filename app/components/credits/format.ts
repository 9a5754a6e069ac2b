// Formatting for the credits pages, done by hand in UTC so the server's render and the browser's
// hydration agree to the character (Intl date output differs between ICU versions).

const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
]

/** 1234 → "1,234". */
export const formatCredits = (amount: number) => amount.toLocaleString('en')

/** A ledger amount with its sign: "+25", "−25" (a real minus sign, read as "minus"). */
export const formatSignedCredits = (amount: number) =>
  `${amount < 0 ? '−' : '+'}${formatCredits(Math.abs(amount))}`

/** "2025-03-05" → "5 Mar 2025"; with `year: false`, "5 Mar". */
export function formatDay(day: string, { year = true } = {}): string {
  const [y, m, d] = day.split('-').map(Number)
  const short = `${d} ${MONTHS[(m ?? 1) - 1]}`
  return year ? `${short} ${y}` : short
}

/** An ISO timestamp → ["5 Mar 2025", "14:05 UTC"]. */
export function formatDateTime(iso: string): [string, string] {
  const date = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return [
    formatDay(iso.slice(0, 10)),
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`,
  ]
}

/** Minutes as hours with at most one decimal: 90 → "1.5", 600 → "10". */
export function formatHours(minutes: number): string {
  const hours = Math.round((minutes / 60) * 10) / 10
  return hours.toLocaleString('en', { maximumFractionDigits: 1 })
}
