import { Form, Link } from '@remix-run/react'
import { useEffect, useRef } from 'react'
import { FormError } from '../ui/form-error'
import { SubmitButton } from '../ui/submit-button'
import { TextField } from '../ui/text-field'
import { formatCredits } from './format'

/** What a tip action answers: the tip that was paid, or the messages for the form. */
export interface TipFormResult {
  tipped?: { amount: number; balance: number }
  values?: { amount: string; message: string }
  errors: Record<string, string>
}

/**
 * Tips `recipientName` (on their profile, or the host in a room). The idempotency key comes from the
 * loader, in a hidden field: a double submit, or a reload that posts the form again, pays once.
 * Posts `intent=tip` to the page's own action.
 */
export function TipForm({
  recipientName,
  idempotencyKey,
  balance,
  result,
}: {
  recipientName: string
  idempotencyKey: string
  balance: number
  result?: TipFormResult
}) {
  const form = useRef<HTMLFormElement>(null)
  const errors = result?.errors ?? {}
  // A paid tip clears the form; the loader has already rendered a fresh key for the next one.
  useEffect(() => {
    if (result?.tipped) form.current?.reset()
  }, [result])
  const formError =
    errors.form ??
    errors.recipientId ??
    errors.sessionId ??
    errors.idempotencyKey

  return (
    <section className="card tip-card" aria-labelledby="tip-heading">
      <h2 id="tip-heading">Tip {recipientName}</h2>
      <p className="muted">
        You have {formatCredits(balance)} credits.{' '}
        <Link to="/credits">Your credits</Link>
      </p>
      {result?.tipped ? (
        <p className="form-success" role="status">
          You tipped {recipientName} {formatCredits(result.tipped.amount)}{' '}
          {result.tipped.amount === 1 ? 'credit' : 'credits'}. You have{' '}
          {formatCredits(result.tipped.balance)} left.
        </p>
      ) : null}
      <Form method="post" className="stack tip-form" ref={form}>
        <FormError message={formError} />
        <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
        <TextField
          name="amount"
          label="Amount (credits)"
          hint="A whole number from 1 to 10,000."
          error={errors.amount}
          type="number"
          inputMode="numeric"
          min={1}
          max={10_000}
          step={1}
          required
          defaultValue={result?.values?.amount}
        />
        <TextField
          name="message"
          label="Message (optional)"
          error={errors.message}
          type="text"
          maxLength={140}
          defaultValue={result?.values?.message}
        />
        <SubmitButton intent="tip" pendingLabel="Sending…">
          Send tip
        </SubmitButton>
      </Form>
    </section>
  )
}
