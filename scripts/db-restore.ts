// `npm run db:restore -- <backup folder | backup id> --target <postgres url> [--yes] [--force]`:
// checks the backup whole before touching the target (refusing an incomplete, corrupt or newer-format
// one), refuses a target that holds rows unless --force, asks before going on unless --yes, then
// migrates the target to the backup's version and loads every row in one transaction, verified by
// row counts and digests before it commits (docs/backup-recovery.md).
import { createInterface } from 'node:readline/promises'
import journal from '../migrations/meta/_journal.json'
import { checkBackup } from './lib/backup-check'
import { backupArgument } from './lib/backup-cli'
import { openBackup } from './lib/backup-files'
import {
  inspectTarget,
  restoreBackup,
  targetRefusal,
} from './lib/backup-restore'
import { parseOptions, UsageError } from './lib/cli-args'
import { formatCount } from './lib/progress'
import { runScript } from './lib/script-database'

const SCRIPT = 'db:restore'
const USAGE = `usage: npm run ${SCRIPT} -- <backup folder | backup id> --target <postgres url> [--yes] [--force] [--persist-to <wrangler state folder>]`
const REFUSED = 'nothing was changed'

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({
    input: process.stdin,
    output: process.stderr,
  })
  try {
    const answer = await prompt.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    prompt.close()
  }
}

await runScript(SCRIPT, async () => {
  let reference: string
  let options: {
    target?: string
    'persist-to'?: string
    yes?: true
    force?: true
  }
  try {
    const args = backupArgument(process.argv.slice(2))
    reference = args.reference
    options = parseOptions(args.rest, {
      strings: ['target', 'persist-to'],
      flags: ['yes', 'force'],
    })
    if (!options.target)
      throw new UsageError('--target <postgres url> is required')
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${SCRIPT}: ${error.message}\n${USAGE}`)
    return 1
  }
  const target = options.target
  const force = options.force === true
  const reader = await openBackup(reference, {
    persistTo: options['persist-to'],
  })
  try {
    const { manifest, problems } = await checkBackup(reader, {
      label: `${SCRIPT} (checking)`,
    })
    for (const problem of problems) console.log(`PROBLEM: ${problem}`)
    if (!manifest || problems.length > 0) {
      console.error(
        `${SCRIPT}: refused: ${reader.description} cannot be restored (${problems.length} problem(s) above); ${REFUSED}`,
      )
      return 1
    }
    const state = await inspectTarget(target)
    const refusal = targetRefusal(manifest, state, { force })
    if (refusal) {
      console.error(`${SCRIPT}: refused: ${refusal}; ${REFUSED}`)
      return 1
    }
    const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0)
    const version = manifest.migration.tag ?? manifest.migration.createdAt
    if (!options.yes) {
      if (!process.stdin.isTTY) {
        console.error(
          `${SCRIPT}: refused: no terminal to ask for confirmation; pass --yes to restore without asking; ${REFUSED}`,
        )
        return 1
      }
      const replacing =
        state.tablesWithRows.length > 0
          ? `, REPLACING everything in it (rows in ${state.tablesWithRows.join(', ')})`
          : ''
      const ok = await confirm(
        `Restore backup ${manifest.id} (snapshot at ${manifest.createdAt}, migration ${version}, ` +
          `${manifest.tables.length} tables, ${formatCount(rows)} rows) into ${state.description}${replacing}?`,
      )
      if (!ok) {
        console.error(`${SCRIPT}: not confirmed; ${REFUSED}`)
        return 1
      }
    }
    const started = Date.now()
    const result = await restoreBackup(reader, manifest, target, {
      force,
      label: SCRIPT,
    })
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    const latest = journal.entries.at(-1)
    const behind =
      latest && latest.when > manifest.migration.createdAt
        ? `\nThe database is at migration ${version}; this checkout goes up to ${latest.tag}: ` +
          `DATABASE_URL=<target> npm run db:migrate brings it forward.`
        : ''
    console.log(
      `${SCRIPT}: restored backup ${manifest.id} into ${state.description} in ${seconds} s: ` +
        `${result.tables} tables, ${formatCount(result.rows)} rows, every row count and digest matches the backup ` +
        `(migrations applied: ${result.applied.length ? result.applied.join(', ') : 'none'}).${behind}`,
    )
    return 0
  } finally {
    await reader.close()
  }
})
