import WebSocket from 'ws'
import type { TestClient } from './auth'
import { BASE_URL, type RunningWorkers } from './workers'

/** A server frame as the chat sends it (SPEC §2a). */
export type Frame = { type: string; [key: string]: unknown }
export type MessageFrame = {
  type: 'message'
  message: { id: number; userId: string; text: string; isHeld: boolean }
}

export interface ChatClient {
  frames: Frame[]
  /** The ids of the message frames received, in order. */
  messageIds(): number[]
  send(frame: unknown): void
  sendRaw(data: string | Buffer): void
  /** Resolves with the first frame matching `test` (already received or arriving within 5 s). */
  waitFor(test: (frame: Frame) => boolean, what?: string): Promise<Frame>
  /** Resolves once `count` message frames have arrived (5 s). */
  waitForMessages(count: number): Promise<void>
  closed: Promise<{ code: number; reason: string }>
  close(): Promise<void>
}

export interface ConnectOptions {
  origin?: string | null
  after?: number
  code?: string
  cookie?: string | null
}

/**
 * A real WebSocket client (the `ws` package) to `/api/sessions/:id/chat` on the Miniflare port.
 * Resolves once the upgrade succeeded; rejects with the HTTP status when it was refused.
 */
export function connectChat(
  workers: RunningWorkers,
  user: TestClient | null,
  sessionId: string,
  { origin = BASE_URL, after, code, cookie }: ConnectOptions = {},
): Promise<ChatClient> {
  const url = new URL(`/api/sessions/${sessionId}/chat`, workers.url)
  url.protocol = 'ws:'
  if (after !== undefined) url.searchParams.set('after', String(after))
  if (code) url.searchParams.set('code', code)
  const headers: Record<string, string> = {}
  if (origin) headers.Origin = origin
  const sessionCookie = cookie === undefined ? user?.cookie : cookie
  if (sessionCookie) headers.Cookie = sessionCookie
  const socket = new WebSocket(url, { headers })
  const frames: Frame[] = []
  const waiters = new Set<() => void>()
  socket.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame)
    for (const wake of waiters) wake()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) =>
      resolve({ code, reason: String(reason) }),
    ),
  )
  const until = <T>(check: () => T | undefined, what: string) =>
    new Promise<T>((resolve, reject) => {
      const wake = () => {
        const found = check()
        if (found === undefined) return
        waiters.delete(wake)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => {
        waiters.delete(wake)
        reject(
          new Error(
            `timed out waiting for ${what}; got ${JSON.stringify(frames.slice(-5))}`,
          ),
        )
      }, 5_000)
      waiters.add(wake)
      wake()
    })
  const client: ChatClient = {
    frames,
    messageIds: () =>
      frames
        .filter((f): f is MessageFrame & Frame => f.type === 'message')
        .map((f) => f.message.id),
    send: (frame) => socket.send(JSON.stringify(frame)),
    sendRaw: (data) => socket.send(data),
    waitFor: (test, what = 'a frame') => until(() => frames.find(test), what),
    waitForMessages: (count) =>
      until(
        () => (client.messageIds().length >= count ? true : undefined),
        `${count} messages`,
      ).then(() => undefined),
    closed,
    async close() {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000)
      await closed
    },
  }
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client))
    socket.once('unexpected-response', (_req, res) => {
      reject(
        Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
          status: res.statusCode,
        }),
      )
      res.resume()
    })
    socket.once('error', reject)
  })
}

/** The HTTP status an upgrade was refused with (throws if it was accepted). */
export async function refusedStatus(
  attempt: Promise<ChatClient>,
): Promise<number> {
  try {
    const client = await attempt
    await client.close()
  } catch (error) {
    return (error as { status?: number }).status ?? -1
  }
  throw new Error('the chat accepted the connection')
}
