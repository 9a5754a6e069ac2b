// Which backups to keep: 7 daily, 4 weekly, 6 monthly (SPEC §7), counted the way restic and borg
// count them: the newest backup of each of the N most recent days (ISO weeks, months, in UTC) that
// have one, so a pause in backups never empties the shelf.

export interface RetentionPolicy {
  daily: number
  weekly: number
  monthly: number
}

export const RETENTION: RetentionPolicy = { daily: 7, weekly: 4, monthly: 6 }

export interface BackupAge {
  id: string
  createdAt: Date
  complete: boolean
}

/**
 * The ids to delete: complete backups that no rule keeps. The newest complete backup is always
 * kept, and incomplete ones (no manifest) are neither counted nor deleted.
 */
export function expiredBackups(
  backups: readonly BackupAge[],
  policy: RetentionPolicy = RETENTION,
): string[] {
  const complete = backups
    .filter((b) => b.complete)
    .toSorted((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
  const kept = new Set<string>(complete.slice(0, 1).map((b) => b.id))
  const rules: Array<[number, (at: Date) => string]> = [
    [policy.daily, (at) => at.toISOString().slice(0, 10)],
    [policy.weekly, isoWeek],
    [policy.monthly, (at) => at.toISOString().slice(0, 7)],
  ]
  for (const [count, periodOf] of rules) {
    const periods = new Set<string>()
    for (const backup of complete) {
      const period = periodOf(backup.createdAt)
      if (periods.has(period)) continue
      if (periods.size === count) break
      periods.add(period)
      kept.add(backup.id)
    }
  }
  return complete.filter((b) => !kept.has(b.id)).map((b) => b.id)
}

/** `2026-W18`: the ISO week (weeks start on Monday; week 1 holds the year's first Thursday). */
function isoWeek(at: Date): string {
  const day = new Date(
    Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()),
  )
  const weekday = day.getUTCDay() || 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday) // the Thursday of this week
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1)
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7)
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}
