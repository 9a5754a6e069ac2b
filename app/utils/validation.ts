import * as z from 'zod'

/**
 * RFC 3339 timestamps as 100ms sends them: UTC `Z`, 0–9 fractional digits. JavaScript's Date keeps
 * milliseconds, which is all the ordering we need; extra digits are truncated, not rounded.
 */
export const Rfc3339 = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 timestamp')
  .transform((value) => new Date(value.replace(/(\.\d{3})\d+/, '$1')))
  .refine((date) => !Number.isNaN(date.getTime()), 'must be a valid date')

/** The envelope shared by every 100ms webhook event (SPEC §5). */
export const HmsWebhookEnvelope = z.object({
  id: z.string().min(1, 'is required').max(200),
  type: z
    .string()
    .min(1, 'is required')
    .max(100)
    .regex(/^[a-z0-9_.-]+$/, 'must be an event type like peer.join.success'),
  timestamp: Rfc3339,
  version: z.string().min(1).max(20),
  data: z.record(z.string(), z.unknown()),
})

/** Turns zod issues into `{ field: message }` for the JSON error shape. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const issue of error.issues) {
    const path = issue.path.join('.') || '(body)'
    fields[path] ??= issue.message
  }
  return fields
}
