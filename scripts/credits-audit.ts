// `npm run credits:audit`: recomputes every user's balance and ledger chain from credit_transactions
// (SPEC §3) and prints each mismatch; exit 1 if there is any, 0 otherwise. Reads in one REPEATABLE
// READ, READ ONLY transaction (one consistent snapshot, however long the pass, while the app keeps
// writing), in keyset-paginated batches: the ledger is never held in memory. Works on DATABASE_URL,
// or on the embedded dev database when that is unset. With SENTRY_DSN set it checks in as the cron
// monitor `credits-audit` (ok, or error with an event naming the count), so a scheduled run that
// finds a mismatch, fails or stops running raises an alert (docs/monitoring.md). Each completed run
// is recorded in job_runs as `credits-audit`, which /ops shows as the last credits audit.
import { sql } from 'drizzle-orm'
import { queryRows, type Db, type Tx } from '../app/db/client.server'
import { recordJobRuns } from '../app/models/job-runs.server'
import { parseOptions, UsageError } from './lib/cli-args'
import {
  auditLedger,
  type AuditLedgerRow,
  type AuditUser,
  type Mismatch,
} from './lib/ledger-audit'
import {
  openScriptDatabase,
  requireCreditsLedger,
  runScript,
} from './lib/script-database'
import { scriptMonitor } from './lib/script-monitoring'

const SCRIPT = 'credits:audit'
const MONITOR_SLUG = 'credits-audit'
const USAGE = `usage: npm run ${SCRIPT} [-- --batch <rows> --show <mismatches>]`
const DEFAULT_BATCH = 5_000
// Past this many, mismatches are counted but not printed: one systematic fault would flood the terminal.
const DEFAULT_SHOW = 200

async function* userBatches(tx: Tx, batch: number): AsyncGenerator<AuditUser> {
  let after: string | null = null
  for (;;) {
    const rows: Array<{
      id: string
      username: string | null
      credits: number
      credit_seq: number
    }> = await queryRows(
      tx,
      sql`select id, username, credits, credit_seq from users
          ${after === null ? sql`` : sql`where id > ${after}`}
          order by id limit ${batch}`,
    )
    for (const r of rows)
      yield {
        id: r.id,
        username: r.username,
        credits: r.credits,
        creditSeq: r.credit_seq,
      }
    if (rows.length < batch) return
    after = rows.at(-1)!.id
  }
}

async function* ledgerBatches(
  tx: Tx,
  batch: number,
): AsyncGenerator<AuditLedgerRow> {
  let after: { userId: string; seq: number } | null = null
  for (;;) {
    // The unique index on (user_id, seq) serves both the order and the row comparison.
    const rows: Array<{
      user_id: string
      seq: number
      amount: number
      balance_after: number
    }> = await queryRows(
      tx,
      sql`select user_id, seq, amount, balance_after from credit_transactions
          ${after === null ? sql`` : sql`where (user_id, seq) > (${after.userId}::uuid, ${after.seq}::int)`}
          order by user_id, seq limit ${batch}`,
    )
    for (const r of rows)
      yield {
        userId: r.user_id,
        seq: r.seq,
        amount: r.amount,
        balanceAfter: r.balance_after,
      }
    if (rows.length < batch) return
    const last = rows.at(-1)!
    after = { userId: last.user_id, seq: last.seq }
  }
}

/**
 * A progress bar on stderr while more than one batch is read: redrawn in place on a terminal, a
 * line every 10% otherwise (CI logs).
 */
function progressBar(total: number, batch: number) {
  if (total <= batch) return { update() {}, done() {} }
  const tty = process.stderr.isTTY
  const width = 30
  let lastDrawn = 0
  let lastTenth = -1
  const draw = (rows: number) => {
    const ratio = Math.min(1, rows / total)
    const filled = Math.round(ratio * width)
    const text = `${SCRIPT}: [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(
      ratio * 100,
    )
      .toString()
      .padStart(
        3,
      )}% ${rows.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ledger rows`
    if (tty) process.stderr.write(`\r${text}`)
    else process.stderr.write(`${text}\n`)
  }
  return {
    update(rows: number) {
      if (tty) {
        const now = Date.now()
        if (now - lastDrawn < 100 && rows < total) return
        lastDrawn = now
        draw(rows)
      } else {
        const tenth = Math.floor((rows / total) * 10)
        if (tenth === lastTenth) return
        lastTenth = tenth
        draw(rows)
      }
    },
    done(rows: number) {
      if (tty) {
        draw(rows)
        process.stderr.write('\n')
      } else if (lastTenth < 10) draw(rows)
    },
  }
}

/** The run, for /ops; the audit's own answer stands even when the row cannot be written. */
async function recordAudit(
  db: Db,
  run: { startedAt: Date; ok: boolean; detail: string },
) {
  try {
    await recordJobRuns(db, [{ name: MONITOR_SLUG, ...run }])
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    console.error(
      `${SCRIPT}: warning: the run was not recorded for /ops (${reason})`,
    )
  }
}

function positiveInteger(
  name: string,
  value: string | undefined,
  fallback: number,
) {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`--${name} must be a positive whole number`)
  return Number(value)
}

await runScript(SCRIPT, async () => {
  let batch: number
  let show: number
  try {
    const options = parseOptions(process.argv.slice(2), {
      strings: ['batch', 'show'],
    })
    batch = positiveInteger('batch', options.batch, DEFAULT_BATCH)
    show = positiveInteger('show', options.show, DEFAULT_SHOW)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${SCRIPT}: ${error.message}\n${USAGE}`)
    return 1
  }
  const monitor = scriptMonitor(SCRIPT)
  const checkInId = monitor.checkIn(MONITOR_SLUG, 'in_progress')
  const database = await openScriptDatabase(SCRIPT)
  try {
    const { db } = database
    await requireCreditsLedger(db)
    const started = Date.now()
    const summary = await db.transaction(
      async (tx) => {
        const [{ total } = { total: 0 }] = await queryRows<{ total: number }>(
          tx,
          sql`select count(*)::int as total from credit_transactions`,
        )
        const progress = progressBar(total, batch)
        let shown = 0
        const result = await auditLedger({
          users: userBatches(tx, batch),
          ledger: ledgerBatches(tx, batch),
          onRows: (rows) => progress.update(rows),
          onMismatch(mismatch: Mismatch) {
            shown += 1
            if (shown > show) return
            const who = `user ${mismatch.userId}${mismatch.username ? ` (@${mismatch.username})` : ''}`
            const at = mismatch.seq === undefined ? '' : ` seq ${mismatch.seq}`
            // stdout, one line each, grep-able by kind.
            console.log(
              `MISMATCH ${mismatch.kind}: ${who}${at}: ${mismatch.message}`,
            )
          },
        })
        progress.done(result.rows)
        return result
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    )
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    const numbers = (n: number) => n.toLocaleString('en-US')
    const counted = `${numbers(summary.users)} users, ${numbers(summary.rows)} ledger rows (credited ${numbers(summary.credited)}, debited ${numbers(summary.debited)}, balances ${numbers(summary.balances)}) in ${database.description}, ${seconds} s`
    const durationSeconds = (Date.now() - started) / 1000
    await recordAudit(db, {
      startedAt: new Date(started),
      ok: summary.mismatches === 0,
      detail:
        summary.mismatches === 0
          ? `every balance and chain matches the ledger: ${counted}`
          : `${numbers(summary.mismatches)} mismatch(es): ${counted}`,
    })
    if (summary.mismatches === 0) {
      console.log(
        `${SCRIPT}: OK: ${counted}: every balance and chain matches the ledger.`,
      )
      monitor.checkIn(MONITOR_SLUG, 'ok', { checkInId, durationSeconds })
      return 0
    }
    monitor.captureMessage(
      `credits audit: ${summary.mismatches} mismatch(es)`,
      'error',
      {
        mismatches: summary.mismatches,
        users: summary.users,
        rows: summary.rows,
      },
    )
    monitor.checkIn(MONITOR_SLUG, 'error', { checkInId, durationSeconds })
    const hidden =
      summary.mismatches > show
        ? ` (the first ${show} printed; --show <n> prints more)`
        : ''
    console.log(
      `${SCRIPT}: ${numbers(summary.mismatches)} mismatch(es)${hidden}: ${counted}.`,
    )
    return 1
  } finally {
    await database.close()
    await monitor.flush()
  }
})
