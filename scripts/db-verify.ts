// `npm run db:verify -- <backup folder | backup id> [--restore-test [--scratch-server <url>]]`:
// checks a backup without touching any database (manifest, checksums, row counts, the tables the
// product cannot lose); --restore-test then restores it into a scratch database (an in-memory
// PGlite, or a temporary database on --scratch-server) and compares every table's digest.
// `npm run db:verify -- --list` lists the backups in the local R2 state.
import { listBackups } from '../workers/jobs/backup/r2'
import { checkBackup } from './lib/backup-check'
import { backupArgument } from './lib/backup-cli'
import { openBackup, openLocalBucket } from './lib/backup-files'
import { restoreBackup, withScratchDatabase } from './lib/backup-restore'
import { parseOptions, UsageError } from './lib/cli-args'
import { formatCount } from './lib/progress'
import { runScript } from './lib/script-database'

const SCRIPT = 'db:verify'
const USAGE =
  `usage: npm run ${SCRIPT} -- <backup folder | backup id> [--restore-test [--scratch-server <postgres url>]] [--persist-to <wrangler state folder>]\n` +
  `       npm run ${SCRIPT} -- --list [--persist-to <wrangler state folder>]`

async function list(persistTo: string | undefined) {
  const local = await openLocalBucket(persistTo)
  try {
    const backups = await listBackups(local.bucket)
    if (backups.length === 0)
      console.log(`${SCRIPT}: no backups in ${local.description}`)
    for (const backup of backups)
      console.log(
        `${backup.id}  ${backup.complete ? 'complete  ' : 'INCOMPLETE'}  ${backup.keys.length} objects`,
      )
    return 0
  } finally {
    await local.dispose()
  }
}

await runScript(SCRIPT, async () => {
  let reference: string
  let options: {
    'restore-test'?: true
    'scratch-server'?: string
    'persist-to'?: string
  }
  try {
    if (process.argv[2] === '--list') {
      const listOptions = parseOptions(process.argv.slice(3), {
        strings: ['persist-to'],
      })
      return await list(listOptions['persist-to'])
    }
    const args = backupArgument(process.argv.slice(2))
    reference = args.reference
    options = parseOptions(args.rest, {
      strings: ['scratch-server', 'persist-to'],
      flags: ['restore-test'],
    })
    if (options['scratch-server'] && !options['restore-test'])
      throw new UsageError('--scratch-server goes with --restore-test')
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${SCRIPT}: ${error.message}\n${USAGE}`)
    return 1
  }
  const reader = await openBackup(reference, {
    persistTo: options['persist-to'],
  })
  try {
    const { manifest, problems } = await checkBackup(reader, { label: SCRIPT })
    for (const problem of problems) console.log(`PROBLEM: ${problem}`)
    if (!manifest || problems.length > 0) {
      console.error(
        `${SCRIPT}: ${reader.description} cannot be restored: ${problems.length} problem(s) above`,
      )
      return 1
    }
    const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0)
    console.log(
      `${SCRIPT}: OK: backup ${manifest.id} (snapshot at ${manifest.createdAt}, migration ` +
        `${manifest.migration.tag ?? manifest.migration.createdAt}): ${manifest.tables.length} tables, ` +
        `${formatCount(rows)} rows; every file is present and matches its size, SHA-256, row count and digest`,
    )
    if (!options['restore-test']) return 0
    await withScratchDatabase(
      options['scratch-server'],
      async (url, description) => {
        const result = await restoreBackup(reader, manifest, url, {
          force: false,
          label: `${SCRIPT} (restore test)`,
        })
        console.log(
          `${SCRIPT}: OK: restored into ${description} (migrations applied: ${result.applied.length}): ` +
            `${result.tables} tables, ${formatCount(result.rows)} rows; every table's row count and digest match the backup`,
        )
      },
    )
    return 0
  } finally {
    await reader.close()
  }
})
