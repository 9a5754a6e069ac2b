import { describe, expect, test } from 'vitest'
import { expiredBackups, type BackupAge } from './retention'

/** One complete backup a day at 03:00 UTC, from `first` to `last` inclusive (YYYY-MM-DD). */
function nightly(first: string, last: string): BackupAge[] {
  const backups: BackupAge[] = []
  for (
    let at = new Date(`${first}T03:00:00Z`);
    at <= new Date(`${last}T03:00:00Z`);
    at = new Date(at.getTime() + 86_400_000)
  ) {
    backups.push(backup(at.toISOString().slice(0, 10)))
  }
  return backups
}

function backup(day: string, time = '03:00:00', complete = true): BackupAge {
  return {
    id: `${day}T${time}`,
    createdAt: new Date(`${day}T${time}Z`),
    complete,
  }
}

function kept(backups: BackupAge[], expired: string[]) {
  return backups
    .map((b) => b.id.slice(0, 10))
    .filter((_, i) => !expired.includes(backups[i]!.id))
}

describe('retention: 7 daily, 4 weekly, 6 monthly', () => {
  test('a nightly series keeps the last 7 days, the last day of 3 more ISO weeks and of 4 more months', () => {
    // 2026-05-10 is a Sunday: its ISO week (05-04..05-10) is among the daily ones.
    const backups = nightly('2026-01-01', '2026-05-10')
    const expired = expiredBackups(backups)
    expect(kept(backups, expired).sort()).toEqual(
      [
        // monthly: the newest of January to April (May's is 05-10)
        '2026-01-31',
        '2026-02-28',
        '2026-03-31',
        '2026-04-30',
        // weekly: the newest of the three ISO weeks before this one
        '2026-04-19',
        '2026-04-26',
        '2026-05-03',
        // daily
        '2026-05-04',
        '2026-05-05',
        '2026-05-06',
        '2026-05-07',
        '2026-05-08',
        '2026-05-09',
        '2026-05-10',
      ].sort(),
    )
    expect(expired).toHaveLength(backups.length - 14)
  })

  test('after a year, only six months are kept', () => {
    const backups = nightly('2025-01-01', '2026-01-15')
    const keptDays = kept(backups, expiredBackups(backups))
    expect(keptDays.filter((d) => d < '2025-08-01')).toEqual([])
    expect(keptDays).toContain('2025-08-31')
  })

  test('fewer backups than the rules keep: nothing is deleted', () => {
    expect(expiredBackups(nightly('2026-05-01', '2026-05-05'))).toEqual([])
    expect(expiredBackups([])).toEqual([])
  })

  test('of several backups in a day, the newest counts for the day', () => {
    const backups = [
      backup('2026-05-10', '03:00:00'),
      backup('2026-05-10', '14:30:00'),
      backup('2026-05-09', '03:00:00'),
    ]
    expect(expiredBackups(backups)).toEqual(['2026-05-10T03:00:00'])
  })

  test('a pause in backups does not empty the shelf: the 7 newest days are kept however old', () => {
    const backups = nightly('2026-01-01', '2026-01-20')
    const keptDays = kept(backups, expiredBackups(backups))
    for (const day of ['14', '15', '16', '17', '18', '19', '20'])
      expect(keptDays).toContain(`2026-01-${day}`)
  })

  test('incomplete backups are neither deleted nor counted', () => {
    const backups = [
      ...nightly('2026-01-01', '2026-05-10'),
      backup('2026-05-11', '03:00:00', false),
      backup('2026-01-01', '04:00:00', false),
    ]
    const expired = expiredBackups(backups)
    expect(expired).not.toContain('2026-05-11T03:00:00')
    expect(expired).not.toContain('2026-01-01T04:00:00')
    // The incomplete 05-11 takes no daily slot: 05-04 is still one of the 7 days kept.
    expect(expired).not.toContain('2026-05-04T03:00:00')
    expect(expired).toHaveLength(
      nightly('2026-01-01', '2026-05-10').length - 14,
    )
  })

  test('the newest complete backup is never deleted, whatever the rules', () => {
    const backups = nightly('2026-05-01', '2026-05-10')
    expect(
      expiredBackups(backups, { daily: 0, weekly: 0, monthly: 0 }),
    ).toEqual(
      backups
        .slice(0, -1)
        .map((b) => b.id)
        .reverse(),
    )
    expect(
      expiredBackups([...backups, backup('2026-05-11', '03:00:00', false)], {
        daily: 0,
        weekly: 0,
        monthly: 0,
      }),
    ).not.toContain('2026-05-10T03:00:00')
  })
})
