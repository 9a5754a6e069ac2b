import { describe, expectTypeOf, test } from 'vitest'
import { consumeSignInCode } from '../models/otp.server'
import type { Db, Tx } from './client.server'

// With one connection per request (ADR 009), a query on the outer handle inside db.transaction
// waits for the connection the transaction holds: a 5 s hang, then a failure. Functions that must
// run inside a transaction take `Tx`, and the compiler refuses the outer `Db` there. These checks
// run in `npm run check` (tsc): if `Db` ever became assignable to `Tx`, the @ts-expect-error lines
// below would be unused, which tsc reports as an error.
describe('the transaction handle', () => {
  test('is a type the request database does not satisfy', () => {
    expectTypeOf<Db>().not.toExtend<Tx>()
    expectTypeOf<Tx>().toHaveProperty('rollback')
  })

  test('functions that must run in a transaction refuse the outer handle', () => {
    // Type-level only: the functions are never called.
    const misuse = (db: Db, tx: Tx) => {
      const input = { phone: '+15555550100', code: '000000', secret: 's' }
      // @ts-expect-error: the outer Db is not a transaction
      void consumeSignInCode(db, input)
      void consumeSignInCode(tx, input)
    }
    expectTypeOf(misuse).toBeFunction()
  })
})
