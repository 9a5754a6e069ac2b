// Progress on stderr for the backup scripts: one bar redrawn in place on a terminal, a line every
// 10% otherwise (CI logs), so stdout keeps only the results.

export interface Progress {
  /** `done` of `total` so far, with what is being worked on. */
  update(done: number, detail?: string): void
  /** The bar at its final value, then a new line. */
  finish(detail?: string): void
}

export function progressBar(
  label: string,
  total: number,
  unit: string,
): Progress {
  const tty = process.stderr.isTTY === true
  const width = 24
  let lastDrawn = 0
  let lastTenth = -1
  let current = 0
  let currentDetail = ''
  const draw = (end: string) => {
    const ratio = total > 0 ? Math.min(1, current / total) : 1
    const filled = Math.round(ratio * width)
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`
    const percent = `${Math.floor(ratio * 100)}`.padStart(3)
    const counts = `${current.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}`
    const text = `${label}: [${bar}] ${percent}% ${counts}${currentDetail ? `  ${currentDetail}` : ''}`
    process.stderr.write(tty ? `\r\x1b[K${text}${end}` : `${text}\n`)
  }
  return {
    update(done, detail) {
      current = done
      if (detail !== undefined) currentDetail = detail
      if (tty) {
        const now = Date.now()
        if (now - lastDrawn < 100) return
        lastDrawn = now
        draw('')
      } else {
        const tenth = total > 0 ? Math.floor((done / total) * 10) : 10
        if (tenth === lastTenth) return
        lastTenth = tenth
        draw('')
      }
    },
    finish(detail) {
      current = Math.max(current, total)
      if (detail !== undefined) currentDetail = detail
      if (tty) draw('\n')
      else if (lastTenth < 10) draw('')
    },
  }
}

/** 1.2 MiB, 340 KiB, 12 B. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}
