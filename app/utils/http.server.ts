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
  const body: ErrorBody = { error: { code, message, ...(init.fields ? { fields: init.fields } : {}) } }
  const headers = new Headers(init.headers)
  headers.set('Content-Type', 'application/json; charset=utf-8')
  headers.set('Cache-Control', 'no-store')
  return new Response(JSON.stringify(body), { status, headers })
}

/** Reads at most `maxBytes` of a body, without trusting Content-Length; null when it is larger. */
export async function readBodyWithLimit(request: Request, maxBytes: number): Promise<string | null> {
  const declared = Number(request.headers.get('Content-Length') ?? NaN)
  if (Number.isFinite(declared) && declared > maxBytes) return null
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      return null
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}
