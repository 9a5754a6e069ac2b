/**
 * Whether `error` (or one of its causes: drizzle wraps the driver's error) is Postgres refusing a
 * duplicate in `constraint` (SQLSTATE 23505).
 */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (
    let e: unknown = error;
    e && typeof e === 'object';
    e = (e as { cause?: unknown }).cause
  ) {
    const { code, constraint: name } = e as {
      code?: string
      constraint?: string
    }
    if (code === '23505' && (name === constraint || name === undefined))
      return true
  }
  return false
}
