import * as z from 'zod'
import {
  AvatarUrl,
  Bio,
  DisplayName,
  fieldErrors,
  OtpCode,
  Phone,
  Username,
} from './validation'

/**
 * The pages' form schemas. They live in a `.server` module because the Remix compiler drops such
 * modules from the browser bundle: imported from a route directly, zod would ship to every visitor.
 */
export const LoginPhoneForm = z.object({ phone: Phone })
export const LoginCodeForm = z.object({ code: OtpCode })
export const WelcomeForm = z.object({
  username: Username,
  displayName: DisplayName,
})
export const ProfileForm = z.object({
  displayName: DisplayName,
  bio: Bio,
  avatarUrl: AvatarUrl,
})

export type FieldErrors = Record<string, string>
export type FormResult<T> =
  | { ok: true; data: T }
  | { ok: false; errors: FieldErrors }

/** Validates submitted fields; failures come back as one message per field, for the form. */
export function parseForm<S extends z.ZodType>(
  schema: S,
  values: unknown,
): FormResult<z.infer<S>> {
  const result = schema.safeParse(values)
  return result.success
    ? { ok: true, data: result.data }
    : { ok: false, errors: fieldErrors(result.error) }
}
