import { and, eq, gt, lt, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.server'
import { otpCodes } from '../db/schema'
import type { SmsSender } from '../services/sms.server'
import { DomainError } from '../utils/errors'

export const OTP_TTL_MINUTES = 10
export const OTP_MAX_ATTEMPTS = 5

/** A uniformly random 6-digit code (rejection sampling: no modulo bias). */
export function generateOtpCode(): string {
  const limit = Math.floor(0x1_0000_0000 / 1_000_000) * 1_000_000
  for (;;) {
    const [value] = crypto.getRandomValues(new Uint32Array(1))
    if (value! < limit) return String(value! % 1_000_000).padStart(6, '0')
  }
}

/** HMAC-SHA256 of phone and code with a server secret: a leaked table does not reveal codes. */
export async function hashOtpCode(
  secret: string,
  phone: string,
  code: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = await crypto.subtle.sign(
    'HMAC',
    key,
    new TextEncoder().encode(`${phone}:${code}`),
  )
  return [...new Uint8Array(mac)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
}

/**
 * Issues a fresh code for `phone` (replacing, and so invalidating, any earlier one) and texts it.
 * If the text cannot be sent the code is removed again: nobody is left with a code they never got.
 */
export async function sendSignInCode(
  db: Db,
  sms: SmsSender,
  { phone, secret }: { phone: string; secret: string },
) {
  const code = generateOtpCode()
  const codeHash = await hashOtpCode(secret, phone, code)
  const expiresAt = sql`now() + make_interval(mins => ${OTP_TTL_MINUTES})`
  await db
    .insert(otpCodes)
    .values({ phone, codeHash, attempts: 0, expiresAt })
    .onConflictDoUpdate({
      target: otpCodes.phone,
      set: { codeHash, attempts: 0, expiresAt, createdAt: sql`now()` },
    })
  try {
    await sms.send(
      phone,
      `Your Kulti code is ${code}. It expires in ${OTP_TTL_MINUTES} minutes. Don't share it.`,
    )
  } catch (error) {
    await db
      .delete(otpCodes)
      .where(and(eq(otpCodes.phone, phone), eq(otpCodes.codeHash, codeHash)))
    throw error
  }
}

/** Whether `phone` holds a code that can still be tried (unexpired, attempts left). */
export async function hasLiveCode(db: Db, phone: string): Promise<boolean> {
  const [row] = await db
    .select({ phone: otpCodes.phone })
    .from(otpCodes)
    .where(liveCode(phone))
  return row !== undefined
}

function liveCode(phone: string) {
  return and(
    eq(otpCodes.phone, phone),
    gt(otpCodes.expiresAt, sql`now()`),
    lt(otpCodes.attempts, OTP_MAX_ATTEMPTS),
  )
}

export const CODE_EXPIRED_MESSAGE =
  'This code has expired or was already used. Request a new code.'

export type CodeAttempt = { ok: true } | { ok: false; error: DomainError }

/**
 * Spends one attempt at `code` for `phone`, inside the caller's transaction. The right code is
 * consumed by one conditional DELETE, so of many simultaneous attempts exactly one succeeds; a
 * wrong one counts against the code, which dies at the fifth. A failure is returned, not thrown,
 * so the caller can commit the spent attempt.
 */
export async function consumeSignInCode(
  tx: Tx,
  { phone, code, secret }: { phone: string; code: string; secret: string },
): Promise<CodeAttempt> {
  const codeHash = await hashOtpCode(secret, phone, code)
  const live = liveCode(phone)
  const [consumed] = await tx
    .delete(otpCodes)
    .where(and(live, eq(otpCodes.codeHash, codeHash)))
    .returning({ phone: otpCodes.phone })
  if (consumed) return { ok: true }
  const [wrong] = await tx
    .update(otpCodes)
    .set({ attempts: sql`${otpCodes.attempts} + 1` })
    .where(live)
    .returning({ attempts: otpCodes.attempts })
  if (!wrong) {
    return fail('code_expired', CODE_EXPIRED_MESSAGE)
  }
  const left = OTP_MAX_ATTEMPTS - wrong.attempts
  if (left === 0)
    return fail(
      'code_locked',
      'Too many wrong tries: this code no longer works. Request a new code.',
    )
  return fail(
    'code_incorrect',
    `That code is not right. ${left} ${left === 1 ? 'try' : 'tries'} left.`,
  )
}

function fail(code: string, message: string): CodeAttempt {
  return {
    ok: false,
    error: new DomainError(code, message, 400, { code: message }),
  }
}

/** Removes codes past their expiry (a scheduled job); safe to re-run. */
export async function deleteExpiredOtpCodes(db: Db): Promise<number> {
  const deleted = await db
    .delete(otpCodes)
    .where(lt(otpCodes.expiresAt, sql`now()`))
    .returning({ phone: otpCodes.phone })
  return deleted.length
}
