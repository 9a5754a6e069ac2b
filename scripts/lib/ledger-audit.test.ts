import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  auditLedger,
  type AuditLedgerRow,
  type AuditUser,
  type Mismatch,
} from './ledger-audit'

// The audit's checks over generated ledgers: a ledger the model could have written passes, and any
// one corruption of it is reported, with the right kind.

async function* stream<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item
}

interface Ledger {
  users: AuditUser[]
  rows: AuditLedgerRow[]
}

/** Users (sorted by id) whose chains are each a valid sequence of changes never below 0. */
const ledger: fc.Arbitrary<Ledger> = fc
  .uniqueArray(fc.uuid(), { minLength: 1, maxLength: 6 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc
          .array(fc.integer({ min: -500, max: 500 }), { maxLength: 12 })
          .map((amounts) => ({ id, amounts })),
      ),
    ),
  )
  .map((people) => {
    const users: AuditUser[] = []
    const rows: AuditLedgerRow[] = []
    for (const { id, amounts } of [...people].sort((a, b) =>
      a.id < b.id ? -1 : 1,
    )) {
      let balance = 0
      let seq = 0
      for (const wanted of amounts) {
        // A debit larger than the balance is refused by the model: it never reaches the ledger.
        const amount = balance + wanted < 0 ? -balance : wanted
        if (amount === 0) continue
        balance += amount
        rows.push({ userId: id, seq: ++seq, amount, balanceAfter: balance })
      }
      users.push({ id, username: null, credits: balance, creditSeq: seq })
    }
    return { users, rows }
  })

async function audit({ users, rows }: Ledger) {
  const found: Mismatch[] = []
  const summary = await auditLedger({
    users: stream(users),
    ledger: stream(rows),
    onMismatch: (m) => found.push(m),
  })
  return { found, summary }
}

describe('credits audit', () => {
  test('a consistent ledger passes, and the totals add up', async () => {
    await fc.assert(
      fc.asyncProperty(ledger, async (l) => {
        const { found, summary } = await audit(l)
        expect(found).toEqual([])
        expect(summary.rows).toBe(l.rows.length)
        expect(summary.balances).toBe(summary.credited - summary.debited)
      }),
    )
  })

  test('any one corruption is reported with its kind', async () => {
    const corruption = fc.constantFrom(
      'drop-row',
      'amount',
      'balance-after',
      'credits',
      'credit-seq',
      'orphan',
    )
    await fc.assert(
      fc.asyncProperty(
        ledger.filter((l) => l.rows.length > 0),
        corruption,
        fc.nat(),
        async ({ users, rows }, kind, pick) => {
          const at = pick % rows.length
          const row = rows[at]!
          const user = users.find((u) => u.id === row.userId)!
          const copy = {
            users: users.map((u) => ({ ...u })),
            rows: rows.map((r) => ({ ...r })),
          }
          const mine = copy.users.find((u) => u.id === user.id)!
          let expected: Mismatch['kind']
          switch (kind) {
            case 'drop-row':
              copy.rows.splice(at, 1)
              expected = 'credit_seq'
              break
            case 'amount':
              copy.rows[at]!.amount += 1
              expected = 'balance_after'
              break
            case 'balance-after':
              copy.rows[at]!.balanceAfter += 1
              expected = 'balance_after'
              break
            case 'credits':
              mine.credits += 1
              expected = 'credits'
              break
            case 'credit-seq':
              mine.creditSeq += 1
              expected = 'credit_seq'
              break
            default:
              copy.users = copy.users.filter((u) => u.id !== user.id)
              expected = 'orphan'
          }
          const { found } = await audit(copy)
          expect(found.map((m) => m.kind)).toContain(expected)
          expect(found.every((m) => m.userId === user.id)).toBe(true)
        },
      ),
    )
  })

  test('one bad balance_after is reported once, not on every row after it', async () => {
    const id = '00000000-0000-4000-8000-000000000001'
    const rows = [10, 20, 30, 40].map((amount, i) => ({
      userId: id,
      seq: i + 1,
      amount,
      balanceAfter: [10, 30, 60, 100][i]!,
    }))
    rows[1]!.amount = 25 // the row's amount was changed after the fact
    const { found } = await audit({
      users: [{ id, username: 'ada', credits: 100, creditSeq: 4 }],
      rows,
    })
    expect(found.map((m) => [m.kind, m.seq])).toEqual([
      ['balance_after', 2],
      ['credits', undefined],
    ])
  })

  test('refuses input that is not sorted, rather than report nonsense', async () => {
    const a = '00000000-0000-4000-8000-00000000000a'
    const b = '00000000-0000-4000-8000-00000000000b'
    await expect(
      audit({
        users: [
          { id: a, username: null, credits: 1, creditSeq: 1 },
          { id: b, username: null, credits: 1, creditSeq: 1 },
        ],
        rows: [
          { userId: b, seq: 1, amount: 1, balanceAfter: 1 },
          { userId: a, seq: 1, amount: 1, balanceAfter: 1 },
        ],
      }),
    ).rejects.toThrow(/not sorted/)
  })
})
