import { describe, expect, test } from 'vitest'
import { limitRequestBody, MAX_MUTATION_BYTES } from './body-limit'

function post(body: BodyInit, headers: Record<string, string> = {}) {
  return new Request('https://kulti.example/settings', {
    method: 'POST',
    body,
    headers,
    duplex: 'half',
  } as RequestInit)
}

function streamOf(size: number) {
  const chunk = new Uint8Array(1024).fill(97)
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close()
      controller.enqueue(chunk.subarray(0, Math.min(1024, size - sent)))
      sent += 1024
    },
  })
}

describe('limitRequestBody', () => {
  test('reads pass untouched', async () => {
    const request = new Request('https://kulti.example/')
    expect(await limitRequestBody(request)).toBe(request)
  })

  test('a small body is handed on intact, with its headers', async () => {
    const result = await limitRequestBody(
      post('intent=profile&bio=hi', {
        'Content-Type': 'application/x-www-form-urlencoded',
      }),
    )
    expect(result).toBeInstanceOf(Request)
    const request = result as Request
    expect(request.headers.get('Content-Type')).toBe(
      'application/x-www-form-urlencoded',
    )
    expect(Object.fromEntries(await request.formData())).toEqual({
      intent: 'profile',
      bio: 'hi',
    })
  })

  test('a body over the limit is 413, whether it declares its length or streams it', async () => {
    const declared = await limitRequestBody(
      post('x'.repeat(MAX_MUTATION_BYTES + 1), {
        'Content-Length': String(MAX_MUTATION_BYTES + 1),
      }),
    )
    expect((declared as Response).status).toBe(413)
    // Declared beyond what is ever drained: refused without reading a byte.
    const huge = post('x', {
      'Content-Length': String(MAX_MUTATION_BYTES * 4 + 1),
    })
    expect(((await limitRequestBody(huge)) as Response).status).toBe(413)
    expect(huge.bodyUsed).toBe(false)
    const streamed = await limitRequestBody(
      post(streamOf(MAX_MUTATION_BYTES + 1)),
    )
    expect((streamed as Response).status).toBe(413)
    const exact = await limitRequestBody(post(streamOf(MAX_MUTATION_BYTES)))
    expect(exact).toBeInstanceOf(Request)
  })
})
