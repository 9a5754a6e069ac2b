import { useNavigation } from '@remix-run/react'
import type { ReactNode } from 'react'

/**
 * A submit button that is disabled, and says `pendingLabel`, while its own submission is in flight.
 * With `intent` it submits `intent=<intent>` and only that submission counts; without, any does.
 */
export function SubmitButton({
  intent,
  pendingLabel,
  className = 'button',
  disabled = false,
  children,
}: {
  intent?: string
  pendingLabel?: string
  className?: string
  disabled?: boolean
  children: ReactNode
}) {
  const navigation = useNavigation()
  const submitting =
    navigation.state === 'submitting' &&
    (intent === undefined || navigation.formData?.get('intent') === intent)
  return (
    <button
      type="submit"
      name={intent === undefined ? undefined : 'intent'}
      value={intent}
      className={className}
      disabled={disabled || submitting}
    >
      {submitting && pendingLabel ? pendingLabel : children}
    </button>
  )
}
