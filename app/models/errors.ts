/**
 * A rule of the domain was broken by the caller (wrong code, taken username, short balance…).
 * Routes turn it into the JSON error shape or a form error; `status` is the HTTP status to use.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly fields?: Record<string, string>,
  ) {
    super(message)
    this.name = 'DomainError'
  }
}
