import { TextField } from './ui/text-field'

/**
 * What deleting an account asks to retype (confirmAccountDeletion in app/models/users.server.ts):
 * the username, or, for an account that never chose one, the last 4 digits of its phone number.
 */
export function ConfirmDeletionField({
  username,
  error,
}: {
  username: string | null
  error?: string
}) {
  return username ? (
    <TextField
      name="confirm"
      label={
        <>
          Type your username, <strong>{username}</strong>, to confirm
        </>
      }
      error={error}
      type="text"
      autoComplete="off"
      autoCapitalize="none"
      spellCheck={false}
      required
    />
  ) : (
    <TextField
      name="confirm"
      label="Type the last 4 digits of your phone number to confirm"
      error={error}
      type="text"
      inputMode="numeric"
      autoComplete="off"
      pattern="[0-9]{4}"
      maxLength={4}
      required
    />
  )
}
