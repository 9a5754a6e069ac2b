import type { InputHTMLAttributes, ReactNode } from 'react'
import { FieldError } from './field-error'

type InputProps = Omit<
  InputHTMLAttributes<HTMLInputElement>,
  'id' | 'name' | 'aria-invalid' | 'aria-describedby'
>

/**
 * A labelled input with an optional hint and error message. `name` is also the id, so the hint is
 * `<name>-hint` and the error `<name>-error`; any other prop goes to the input.
 */
export function TextField({
  name,
  label,
  hint,
  error,
  inputPrefix,
  ...inputProps
}: InputProps & {
  name: string
  label: ReactNode
  hint?: ReactNode
  error?: string
  /** Shown before the input, e.g. `@` for a username; hidden from screen readers. */
  inputPrefix?: string
}) {
  const hintId = hint ? `${name}-hint` : undefined
  const input = (
    <input
      id={name}
      name={name}
      {...inputProps}
      {...fieldAria(name, { error, hintId })}
    />
  )
  return (
    <div className="field">
      <label htmlFor={name}>{label}</label>
      {inputPrefix ? (
        <div className="input-prefix">
          <span aria-hidden="true">{inputPrefix}</span>
          {input}
        </div>
      ) : (
        input
      )}
      {hint ? (
        <p id={hintId} className="hint">
          {hint}
        </p>
      ) : null}
      <FieldError id={`${name}-error`} message={error} />
    </div>
  )
}

/**
 * Ties the control `id` to its error (`<id>-error`, read first) and hint, for controls that
 * TextField does not render itself.
 */
export function fieldAria(
  id: string,
  { error, hintId }: { error?: string; hintId?: string },
): {
  'aria-invalid': true | undefined
  'aria-describedby': string | undefined
} {
  const describedBy = [error ? `${id}-error` : undefined, hintId]
    .filter(Boolean)
    .join(' ')
  return {
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy || undefined,
  }
}
