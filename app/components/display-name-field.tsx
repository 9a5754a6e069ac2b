import { TextField } from './ui/text-field'

/** The display name input of sign-up and settings; its limits mirror `DisplayName` in validation.ts. */
export function DisplayNameField({
  defaultValue,
  error,
  hint,
}: {
  defaultValue?: string
  error?: string
  hint?: string
}) {
  return (
    <TextField
      name="displayName"
      label="Display name"
      hint={hint}
      error={error}
      type="text"
      autoComplete="name"
      required
      maxLength={50}
      defaultValue={defaultValue}
    />
  )
}
