// `npm run credits:adjust -- --user <username> --amount <±n> --reason "<text>"`: an operator's
// correction of one balance (SPEC §3, admin adjustment), written by the model's adjustCredits as an
// `admin_adjustment` ledger row with the reason. Refused, changing nothing, when it would take the
// balance below 0. Works on DATABASE_URL, or on the embedded dev database when that is unset.
import { adjustCredits } from '../app/models/credits.server'
import { getUserByUsername } from '../app/models/users.server'
import { isDomainError } from '../app/utils/errors'
import { parseOptions, UsageError } from './lib/cli-args'
import {
  openScriptDatabase,
  requireCreditsLedger,
  runScript,
  ScriptError,
} from './lib/script-database'

const SCRIPT = 'credits:adjust'
const USAGE = `usage: npm run ${SCRIPT} -- --user <username> --amount <±credits> --reason "<why>"
  e.g. npm run ${SCRIPT} -- --user alice --amount 250 --reason "refund for the outage of 3 May"
       npm run ${SCRIPT} -- --user alice --amount -100 --reason "duplicate payout, ticket 42"`
// A balance is a Postgres integer; one correction this large is a typo, not a decision.
const MAX_AMOUNT = 1_000_000_000
const MAX_REASON = 500

interface Adjustment {
  username: string
  amount: number
  reason: string
}

function parseAdjustment(argv: string[]): Adjustment {
  const options = parseOptions(argv, {
    strings: ['user', 'amount', 'reason'],
  })
  const username = options.user?.trim().replace(/^@/, '')
  if (!username) throw new UsageError('--user is required')
  if (options.amount === undefined) throw new UsageError('--amount is required')
  if (!/^[+-]?\d+$/.test(options.amount.trim()))
    throw new UsageError(
      `--amount must be a whole number of credits, like 250 or -100 (got "${options.amount}")`,
    )
  const amount = Number(options.amount.trim())
  if (amount === 0) throw new UsageError('--amount must not be 0')
  if (Math.abs(amount) > MAX_AMOUNT)
    throw new UsageError(
      `--amount must be at most ${MAX_AMOUNT.toLocaleString('en-US')} either way`,
    )
  const reason = options.reason?.trim()
  if (!reason)
    throw new UsageError(
      '--reason is required: it is kept on the ledger row for whoever reads it next',
    )
  if (reason.length > MAX_REASON)
    throw new UsageError(`--reason must be at most ${MAX_REASON} characters`)
  return { username, amount, reason }
}

await runScript(SCRIPT, async () => {
  let adjustment: Adjustment
  try {
    adjustment = parseAdjustment(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${SCRIPT}: ${error.message}\n${USAGE}`)
    return 1
  }
  const database = await openScriptDatabase(SCRIPT)
  try {
    const { db } = database
    await requireCreditsLedger(db)
    const user = await getUserByUsername(db, adjustment.username)
    if (!user)
      throw new ScriptError(
        `there is no user named "${adjustment.username}" in ${database.description}`,
      )
    let balance: number
    try {
      ;({ balance } = await adjustCredits(db, {
        userId: user.id,
        amount: adjustment.amount,
        reason: adjustment.reason,
      }))
    } catch (error) {
      if (isDomainError(error))
        throw new ScriptError(
          `refused, nothing changed: ${adjustment.amount} credits for @${user.username}: ${error.message}`,
        )
      if (error instanceof Error && /integer out of range/.test(error.message))
        throw new ScriptError(
          `refused, nothing changed: the balance of @${user.username} would not fit in a Postgres integer`,
        )
      throw error
    }
    const signed =
      adjustment.amount > 0 ? `+${adjustment.amount}` : `${adjustment.amount}`
    console.log(
      `${SCRIPT}: ${signed} credits for @${user.username} (${user.id}): balance ${balance - adjustment.amount} → ${balance}` +
        ` (admin_adjustment, reason: ${JSON.stringify(adjustment.reason)}) in ${database.description}`,
    )
    return 0
  } finally {
    await database.close()
  }
})
