import type { RunningWorkers } from './workers'

/**
 * Signs up and in through the public JSON API, reading the code from the dev outbox, the way a
 * developer would. Each caller passes its own client IP so per-IP limits don't couple tests.
 */
export interface TestClient {
  phone: string
  cookie: string
  userId: string
  get(path: string): Promise<Response>
  send(method: string, path: string, body?: unknown): Promise<Response>
}

let counter = 0
/** A phone number no other test in this run uses. */
export function uniquePhone(): string {
  counter += 1
  return `+1555${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(4, '0')}`
}

export function jsonRequest(
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  }
}

export async function requestCode(
  workers: RunningWorkers,
  phone: string,
  ip = '198.51.100.1',
): Promise<Response> {
  return workers.app(
    '/api/auth/otp/send',
    jsonRequest('POST', { phone }, { 'CF-Connecting-IP': ip }),
  )
}

/** The newest code texted to `phone`, from /dev/outbox.json. */
export async function latestCode(
  workers: RunningWorkers,
  phone: string,
): Promise<string> {
  const messages = (await (
    await workers.app('/dev/outbox.json')
  ).json()) as Array<{ to: string; body: string }>
  const message = messages.find((m) => m.to === phone)
  const code = message && /\b(\d{6})\b/.exec(message.body)?.[1]
  if (!code) throw new Error(`no code was texted to ${phone}`)
  return code
}

export async function verify(
  workers: RunningWorkers,
  phone: string,
  code: string,
  ip = '198.51.100.1',
) {
  return workers.app(
    '/api/auth/otp/verify',
    jsonRequest('POST', { phone, code }, { 'CF-Connecting-IP': ip }),
  )
}

export function cookieFrom(response: Response): string {
  const header = response.headers.get('Set-Cookie') ?? ''
  const pair = header.split(';')[0] ?? ''
  if (!pair.startsWith('kulti_session='))
    throw new Error(`no session cookie in: ${header}`)
  return pair
}

/**
 * The session id a session cookie carries: Remix signs `base64(JSON(id))` and appends the
 * signature after a dot. Tests use it to forge cookies around the real id.
 */
export function sessionIdFromCookie(cookie: string): string {
  const value = decodeURIComponent(cookie.split('=').slice(1).join('='))
  return JSON.parse(atob(value.split('.')[0]!)) as string
}

function clientFor(
  workers: RunningWorkers,
  phone: string,
  cookie: string,
  userId: string,
): TestClient {
  return {
    phone,
    cookie,
    userId,
    get: (path) => workers.app(path, { headers: { Cookie: cookie } }),
    send: (method, path, body) =>
      workers.app(path, jsonRequest(method, body, { Cookie: cookie })),
  }
}

/** A signed-in user; with `profile`, one that also completed sign-up. */
export async function signUp(
  workers: RunningWorkers,
  {
    phone = uniquePhone(),
    ip = '198.51.100.1',
    profile,
  }: {
    phone?: string
    ip?: string
    profile?: { username: string; displayName: string }
  } = {},
): Promise<TestClient> {
  const sent = await requestCode(workers, phone, ip)
  if (sent.status !== 202)
    throw new Error(
      `sending a code failed: ${sent.status} ${await sent.text()}`,
    )
  const verified = await verify(
    workers,
    phone,
    await latestCode(workers, phone),
    ip,
  )
  if (verified.status !== 200)
    throw new Error(
      `verifying failed: ${verified.status} ${await verified.text()}`,
    )
  const { user } = (await verified.json()) as { user: { id: string } }
  const client = clientFor(workers, phone, cookieFrom(verified), user.id)
  if (profile) {
    const updated = await client.send('PUT', '/api/me', profile)
    if (updated.status !== 200)
      throw new Error(
        `completing the profile failed: ${updated.status} ${await updated.text()}`,
      )
  }
  return client
}
