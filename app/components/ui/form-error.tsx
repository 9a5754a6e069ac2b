/** A message about the whole form, announced as soon as it appears. */
export function FormError({ message }: { message?: string }) {
  if (!message) return null
  return (
    <p className="form-error" role="alert">
      {message}
    </p>
  )
}
