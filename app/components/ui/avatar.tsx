/** A person's picture, or the first letter of their name when they have none. */
export function Avatar({
  url,
  name,
  large = false,
}: {
  url: string | null
  name: string
  large?: boolean
}) {
  const className = large ? 'avatar avatar-large' : 'avatar'
  const size = large ? 96 : 64
  if (url)
    return (
      <img
        className={className}
        src={url}
        alt={`${name}'s avatar`}
        width={size}
        height={size}
        referrerPolicy="no-referrer"
      />
    )
  return (
    <span className={`${className} avatar-initial`} aria-hidden="true">
      {name.slice(0, 1).toUpperCase() || '?'}
    </span>
  )
}
