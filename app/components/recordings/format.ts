// Formatting for the recordings page, by hand so the server's render and the browser's hydration
// agree to the character (as on the credits pages).

/** 3725 → "1 h 2 min", 95 → "1 min 35 s", 42 → "42 s". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds))
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const rest = total % 60
  if (hours > 0) return `${hours} h ${minutes} min`
  if (minutes > 0) return rest ? `${minutes} min ${rest} s` : `${minutes} min`
  return `${rest} s`
}

/** 1536 → "1.5 KB", 125000000 → "125 MB" (decimal units, as downloads are shown). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  const rounded =
    value >= 100 || unit === 0 ? Math.round(value) : Math.round(value * 10) / 10
  return `${rounded} ${units[unit]}`
}
