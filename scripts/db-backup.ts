// `npm run db:backup [-- --out DIR | --persist-to DIR]`: a backup now, in the nightly job's format
// (docs/backup-recovery.md). Without --out it goes into the BACKUPS bucket of wrangler's local R2
// state, where `npm run dev`'s Worker keeps its backups; with --out, into DIR/<backup id>/. Reads
// DATABASE_URL, or the embedded dev database when that is unset.
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { newBackupId } from '../workers/jobs/backup/format'
import {
  deleteBackup,
  listBackups,
  r2SnapshotWriter,
} from '../workers/jobs/backup/r2'
import {
  discoverTables,
  exportSnapshot,
  type SnapshotWriter,
} from '../workers/jobs/backup/snapshot'
import { folderWriter, nodeSha256, openLocalBucket } from './lib/backup-files'
import { parseOptions, UsageError } from './lib/cli-args'
import { formatBytes, formatCount, progressBar } from './lib/progress'
import { runScript } from './lib/script-database'
import { openSnapshotSource } from './lib/snapshot-source'

const SCRIPT = 'db:backup'
const USAGE = `usage: npm run ${SCRIPT} [-- --out <folder> | --persist-to <wrangler state folder>]`

interface Destination {
  writer: SnapshotWriter
  /** How db:verify and db:restore name this backup. */
  reference: string
  where: string
  /** Removes what a failed backup left. */
  discard(): Promise<void>
  close(): Promise<void>
}

async function destination(
  id: string,
  options: { out?: string; 'persist-to'?: string },
): Promise<Destination> {
  if (options.out) {
    const folder = path.join(options.out, id)
    return {
      writer: await folderWriter(folder),
      reference: folder,
      where: folder,
      discard: () => rm(folder, { recursive: true, force: true }),
      async close() {},
    }
  }
  const local = await openLocalBucket(options['persist-to'])
  return {
    writer: r2SnapshotWriter(local.bucket, id),
    reference: id,
    where: `the BACKUPS bucket (${local.description})`,
    async discard() {
      const partial = (await listBackups(local.bucket)).find((b) => b.id === id)
      if (partial) await deleteBackup(local.bucket, partial)
    },
    close: () => local.dispose(),
  }
}

await runScript(SCRIPT, async () => {
  let options: { out?: string; 'persist-to'?: string }
  try {
    options = parseOptions(process.argv.slice(2), {
      strings: ['out', 'persist-to'],
    })
    if (options.out && options['persist-to'])
      throw new UsageError('--out and --persist-to exclude each other')
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${SCRIPT}: ${error.message}\n${USAGE}`)
    return 1
  }
  const started = Date.now()
  const id = newBackupId(new Date())
  const database = await openSnapshotSource(SCRIPT)
  try {
    const target = await destination(id, options)
    try {
      const manifest = await database.inSnapshot(async (run) => {
        // Exact totals for the progress bar, counted in the snapshot the backup reads.
        let total = 0
        for (const table of await discoverTables(run)) {
          const [row] = await run<{ rows: number }>(
            sql`select count(*)::int as rows from ${sql.identifier(table.schema)}.${sql.identifier(table.name)}`,
          )
          total += row?.rows ?? 0
        }
        const progress = progressBar(SCRIPT, total, 'rows')
        let before = 0
        let current = ''
        let currentRows = 0
        const result = await exportSnapshot({
          id,
          run,
          writer: target.writer,
          sha256: nodeSha256,
          onRows(table, rows) {
            const name = `${table.schema}.${table.name}`
            if (name !== current) {
              before += currentRows
              current = name
            }
            currentRows = rows
            progress.update(before + rows, name)
          },
        })
        progress.finish('exported')
        return result
      })
      const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0)
      const bytes = manifest.tables.reduce((sum, t) => sum + t.bytes, 0)
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      console.log(
        `${SCRIPT}: backup ${id} of ${database.description} written to ${target.where}: ` +
          `${manifest.tables.length} tables, ${formatCount(rows)} rows, ${formatBytes(bytes)} compressed, ${seconds} s ` +
          `(snapshot at ${manifest.createdAt}, migration ${manifest.migration.tag ?? manifest.migration.createdAt}).\n` +
          `Check it: npm run db:verify -- ${target.reference}${options['persist-to'] ? ` --persist-to ${options['persist-to']}` : ''}`,
      )
      return 0
    } catch (error) {
      await target.discard().catch(() => {})
      throw error
    } finally {
      await target.close()
    }
  } finally {
    await database.close()
  }
})
