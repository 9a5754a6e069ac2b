import { queryRows } from '../../app/db/client.server'
import { log } from '../../app/services/monitoring.server'
import { newBackupId } from './backup/format'
import { deleteBackup, listBackups, r2SnapshotWriter } from './backup/r2'
import { expiredBackups } from './backup/retention'
import { exportSnapshot, type Sha256 } from './backup/snapshot'
import type { Job } from './run-jobs'
import { DAILY } from './schedules'

/**
 * The nightly backup (docs/backup-recovery.md): one consistent snapshot of every table streamed to
 * R2, manifest last, then the retention rule applied. runJobs logs the summary and duration and
 * reports a failure to monitoring.
 */
export const backup: Job = {
  name: 'backup',
  crons: [DAILY],
  async run({ db, bindings }) {
    const bucket = bindings.BACKUPS
    const id = newBackupId(new Date())
    let manifest
    try {
      manifest = await db.transaction(
        (tx) =>
          exportSnapshot({
            id,
            run: (query) => queryRows(tx, query),
            writer: r2SnapshotWriter(bucket, id),
            sha256: digestStreamSha256,
          }),
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      )
    } catch (error) {
      // Without a manifest nothing would ever read these files; do not leave them to be paid for.
      const partial = (await listBackups(bucket).catch(() => [])).find(
        (b) => b.id === id,
      )
      if (partial) await deleteBackup(bucket, partial).catch(() => {})
      throw error
    }
    const stored = await listBackups(bucket)
    const expired = new Set(expiredBackups(stored))
    for (const old of stored.filter((b) => expired.has(b.id)))
      await deleteBackup(bucket, old)
    const incomplete = stored.filter((b) => !b.complete).map((b) => b.id)
    if (incomplete.length > 0)
      log('warn', 'incomplete backups in the bucket (no manifest)', {
        job: 'backup',
        incomplete,
      })
    return {
      backupId: id,
      migration: manifest.migration.tag ?? manifest.migration.createdAt,
      tables: manifest.tables.length,
      rows: manifest.tables.reduce((sum, t) => sum + t.rows, 0),
      bytes: manifest.tables.reduce((sum, t) => sum + t.bytes, 0),
      pruned: expired.size,
      kept: stored.filter((b) => b.complete).length - expired.size,
    }
  },
}

// workerd's streaming digest; the DOM lib's Crypto type (also in tsconfig) does not know it.
const { DigestStream: StreamingDigest } = crypto as unknown as {
  DigestStream: typeof DigestStream
}

function digestStreamSha256(): Sha256 {
  const stream = new StreamingDigest('SHA-256')
  const writer = stream.getWriter()
  return {
    update: (chunk) => writer.write(chunk),
    async digest() {
      await writer.close()
      const bytes = new Uint8Array(await stream.digest)
      return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
    },
  }
}
