/**
 * The one JSON error shape of SPEC §6: `{ error: { code, message, fields? } }`. Messages are written
 * for the person reading them; never a stack trace or SQL.
 */
export interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> }
}

export function jsonError(
  status: number,
  code: string,
  message: string,
  init: { fields?: Record<string, string>; headers?: HeadersInit } = {},
): Response {
  const body: ErrorBody = {
    error: { code, message, ...(init.fields ? { fields: init.fields } : {}) },
  }
  const headers = new Headers(init.headers)
  headers.set('Content-Type', 'application/json; charset=utf-8')
  headers.set('Cache-Control', 'no-store')
  return new Response(JSON.stringify(body), { status, headers })
}

/**
 * Reads at most `maxBytes` of a body, without trusting Content-Length; null when it is larger.
 * An oversized body is still drained up to 4× the limit (and discarded), declared or not, so a
 * client that sends it gets our answer instead of a connection reset; a body declared larger than
 * that is not read at all, and one that grows past it is cut off.
 */
export async function readBytesWithLimit(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(request.headers.get('Content-Length') ?? NaN)
  if (Number.isFinite(declared) && declared > maxBytes * 4) return null
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes * 4) {
      await reader.cancel()
      return null
    }
    if (size <= maxBytes) chunks.push(value)
  }
  if (size > maxBytes) return null
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

/** `readBytesWithLimit`, decoded as UTF-8 text. */
export async function readBodyWithLimit(
  request: Request,
  maxBytes: number,
): Promise<string | null> {
  const bytes = await readBytesWithLimit(request, maxBytes)
  return bytes === null ? null : new TextDecoder().decode(bytes)
}

/** The origins that are this app: the one the request reached, and APP_URL's when it is set. */
export function isOwnOrigin(
  origin: string,
  request: Request,
  appUrl?: string,
): boolean {
  return (
    origin === new URL(request.url).origin ||
    (!!appUrl && origin === new URL(appUrl).origin)
  )
}
