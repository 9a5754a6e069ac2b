// `npm run ops:grant -- <username>`: makes that account an operator, who may open /ops (the
// operations page; everyone else gets a 404 there). `npm run ops:grant -- <username> --revoke`
// takes it back. The flag lives in users.operator and is never set by a request. Works on
// DATABASE_URL, or on the embedded dev database when that is unset.
import { setOperator } from '../app/models/operators.server'
import { parseOptions, UsageError } from './lib/cli-args'
import {
  openScriptDatabase,
  runScript,
  ScriptError,
} from './lib/script-database'

const SCRIPT = 'ops:grant'
const USAGE = `usage: npm run ${SCRIPT} -- <username> [--revoke]
  e.g. npm run ${SCRIPT} -- alice
       npm run ${SCRIPT} -- alice --revoke`

function parseGrant(argv: string[]): { username: string; revoke: boolean } {
  // One positional argument (the username); cli-args knows only options.
  const positional = argv.filter((arg) => !arg.startsWith('--'))
  const options = parseOptions(
    argv.filter((arg) => arg.startsWith('--')),
    { strings: [], flags: ['revoke'] },
  )
  if (positional.length !== 1)
    throw new UsageError(
      positional.length === 0
        ? 'name the account: its username'
        : `one username at a time (got ${positional.join(', ')})`,
    )
  const username = positional[0]!.trim().replace(/^@/, '')
  if (!username) throw new UsageError('the username is empty')
  return { username, revoke: options.revoke === true }
}

await runScript(SCRIPT, async () => {
  let grant: { username: string; revoke: boolean }
  try {
    grant = parseGrant(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${SCRIPT}: ${error.message}\n${USAGE}`)
    return 1
  }
  const database = await openScriptDatabase(SCRIPT)
  try {
    const change = await setOperator(
      database.db,
      grant.username,
      !grant.revoke,
    ).catch((error: unknown) => {
      const cause = error instanceof Error ? (error.cause ?? error) : error
      if (cause instanceof Error && /column .*operator/.test(cause.message))
        throw new ScriptError(
          'this database has no operator flag yet (migration 0008_ops): apply the migrations ' +
            'first (`npm run db:migrate` with DATABASE_URL, or start `npm run dev` once for the embedded database).',
        )
      throw error
    })
    if (!change)
      throw new ScriptError(
        `there is no user named "${grant.username}" in ${database.description}; nothing changed`,
      )
    const who = `@${change.username} (${change.userId})`
    const what = change.now
      ? change.was
        ? `${who} was already an operator`
        : `${who} is now an operator: /ops opens for them`
      : change.was
        ? `${who} is no longer an operator: /ops is a 404 for them`
        : `${who} was not an operator`
    console.log(`${SCRIPT}: ${what} (${database.description})`)
    return 0
  } finally {
    await database.close()
  }
})
