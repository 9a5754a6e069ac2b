/**
 * Compares two secrets in time that depends on neither their contents nor their lengths: both are
 * hashed to 32 bytes first, then every byte is compared.
 */
export async function secretsMatch(
  given: string,
  expected: string,
): Promise<boolean> {
  const encoder = new TextEncoder()
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ])
  const x = new Uint8Array(a)
  const y = new Uint8Array(b)
  let difference = 0
  for (let i = 0; i < x.length; i++) difference |= x[i]! ^ y[i]!
  return difference === 0
}
