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

/**
 * The submitted form. A body that cannot be parsed (a broken multipart boundary, JSON posted to a
 * page) is the sender's mistake, so it answers 400 instead of surfacing as our 500.
 */
export async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData()
  } catch {
    throw new Response('The form could not be read. Please submit it again.', {
      status: 400,
    })
  }
}
