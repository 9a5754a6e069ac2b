// The checks of `npm run credits:audit` (SPEC §3 invariants), over two streams sorted the same way:
// users by id, ledger rows by (user id, seq). One pass, a merge join, constant memory: whatever the
// size of the ledger, only the current user's running totals are held.

export interface AuditUser {
  id: string
  username: string | null
  credits: number
  creditSeq: number
}

export interface AuditLedgerRow {
  userId: string
  seq: number
  amount: number
  balanceAfter: number
}

export type MismatchKind =
  | 'seq' // the chain skips or repeats a position
  | 'balance_after' // a row's balance_after is not the previous one plus its amount
  | 'negative' // a balance below 0, on a row or on the user
  | 'credit_seq' // users.credit_seq is not the number of the user's rows
  | 'credits' // users.credits is not the sum of the user's amounts
  | 'orphan' // ledger rows of a user id that has no users row

export interface Mismatch {
  kind: MismatchKind
  userId: string
  username: string | null
  seq?: number
  message: string
}

export interface AuditSummary {
  users: number
  rows: number
  mismatches: number
  /** Sum of users.credits. */
  balances: number
  /** Sum of the ledger's positive amounts, and of the negative ones (as a positive number). */
  credited: number
  debited: number
}

/**
 * Recomputes every user's balance and chain from the ledger: the amounts add up to users.credits,
 * seq runs 1..n without gaps, each balance_after is the running sum, users.credit_seq is n, and no
 * balance is below 0. Calls `onMismatch` for each finding as it is found and `onRows` as rows are
 * consumed (for a progress bar).
 */
export async function auditLedger({
  users,
  ledger,
  onMismatch,
  onRows = () => {},
}: {
  users: AsyncIterable<AuditUser>
  ledger: AsyncIterable<AuditLedgerRow>
  onMismatch: (mismatch: Mismatch) => void
  onRows?: (rows: number) => void
}): Promise<AuditSummary> {
  const summary: AuditSummary = {
    users: 0,
    rows: 0,
    mismatches: 0,
    balances: 0,
    credited: 0,
    debited: 0,
  }
  const report = (mismatch: Mismatch) => {
    summary.mismatches += 1
    onMismatch(mismatch)
  }
  const rows = ledger[Symbol.asyncIterator]()
  let next = await rows.next()
  let lastKey: [string, number] | null = null
  const advance = async () => {
    const row = next.value as AuditLedgerRow
    // The merge join is only right over sorted input; say so loudly rather than report nonsense.
    if (
      lastKey &&
      (row.userId < lastKey[0] ||
        (row.userId === lastKey[0] && row.seq < lastKey[1]))
    )
      throw new Error('ledger rows are not sorted by (user_id, seq)')
    lastKey = [row.userId, row.seq]
    summary.rows += 1
    if (row.amount > 0) summary.credited += row.amount
    else summary.debited -= row.amount
    onRows(summary.rows)
    next = await rows.next()
    return row
  }
  const orphans = async (before: string | null) => {
    let orphan = { userId: '', count: 0 }
    while (!next.done && (before === null || next.value.userId < before)) {
      const row = await advance()
      if (orphan.userId !== row.userId) {
        if (orphan.count > 0) reportOrphan(orphan)
        orphan = { userId: row.userId, count: 0 }
      }
      orphan.count += 1
    }
    if (orphan.count > 0) reportOrphan(orphan)
  }
  const reportOrphan = ({ userId, count }: { userId: string; count: number }) =>
    report({
      kind: 'orphan',
      userId,
      username: null,
      message: `${count} ledger row(s) belong to a user id with no users row`,
    })

  let previousUser: string | null = null
  for await (const user of users) {
    if (previousUser !== null && user.id <= previousUser)
      throw new Error('users are not sorted by id')
    previousUser = user.id
    summary.users += 1
    summary.balances += user.credits
    await orphans(user.id)
    const who = { userId: user.id, username: user.username }
    let count = 0
    let lastSeq = 0
    let sum = 0
    let previousBalance = 0
    while (!next.done && next.value.userId === user.id) {
      const row = await advance()
      count += 1
      if (row.seq !== lastSeq + 1)
        report({
          ...who,
          kind: 'seq',
          seq: row.seq,
          message:
            row.seq === lastSeq
              ? `seq ${row.seq} appears twice`
              : `seq jumps from ${lastSeq} to ${row.seq}`,
        })
      lastSeq = row.seq
      sum += row.amount
      // Where balance_after leaves the running sum is reported; the rows after it, which carry the
      // same difference forward link by link, are not reported again.
      const linked = row.balanceAfter === previousBalance + row.amount
      if (
        row.balanceAfter !== sum &&
        (!linked || previousBalance === sum - row.amount)
      )
        report({
          ...who,
          kind: 'balance_after',
          seq: row.seq,
          message: `balance_after is ${row.balanceAfter}, but the running sum of the amounts is ${sum}`,
        })
      if (row.balanceAfter < 0)
        report({
          ...who,
          kind: 'negative',
          seq: row.seq,
          message: `balance_after is ${row.balanceAfter}, below 0`,
        })
      previousBalance = row.balanceAfter
    }
    if (user.creditSeq !== count)
      report({
        ...who,
        kind: 'credit_seq',
        message: `users.credit_seq is ${user.creditSeq}, but the user has ${count} ledger row(s)`,
      })
    if (user.credits !== sum)
      report({
        ...who,
        kind: 'credits',
        message: `users.credits is ${user.credits}, but the ledger adds up to ${sum}`,
      })
    if (user.credits < 0)
      report({
        ...who,
        kind: 'negative',
        message: `users.credits is ${user.credits}, below 0`,
      })
  }
  await orphans(null)
  return summary
}
