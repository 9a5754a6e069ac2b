import { sql } from 'drizzle-orm'
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

/**
 * People. Phone is the sign-in identity (E.164); username is chosen when the profile is completed,
 * so it is null until then. `credits` is the balance column kept in step with the ledger.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    phone: text('phone'),
    username: text('username'),
    displayName: text('display_name'),
    bio: text('bio').notNull().default(''),
    avatarUrl: text('avatar_url'),
    credits: integer('credits').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    // Set when the account is deleted: personal fields are cleared, the row stays for the ledger.
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('users_phone_key').on(t.phone),
    // Usernames are unique regardless of case: `Ada` and `ada` are the same person.
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    check('users_credits_non_negative', sql`${t.credits} >= 0`),
    check('users_bio_length', sql`char_length(${t.bio}) <= 280`),
  ],
)

/**
 * Every 100ms webhook delivery we accepted, keyed by 100ms's event id so a redelivery or a replay
 * is recognised and answered without being applied twice. `body` is the delivery as received (the
 * stored event); `payload` is the same as jsonb, written when the event is applied, in the same
 * savepoint as its state change: data Postgres refuses (a NUL escape) fails the apply, not the
 * store. An event that failed keeps its reason and attempts and is retried at `next_attempt_at`.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    body: text('body').notNull(),
    payload: jsonb('payload'),
    receivedAt: timestamp('received_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    failureReason: text('failure_reason'),
    // Null once applied, or once the attempts are used up (then only `npm run webhooks:retry`).
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('webhook_events_event_id_key').on(t.eventId),
    // The prune job's filter: applied events by age.
    index('webhook_events_applied_received_at_idx')
      .on(t.receivedAt)
      .where(sql`${t.appliedAt} is not null`),
    // The retry job's filter: failed events that are due.
    index('webhook_events_retry_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.appliedAt} is null`),
  ],
)

/**
 * The one live sign-in code per phone number: sending a new code replaces the row, so the previous
 * code stops working. Only an HMAC of the code is stored (app/models/otp.server.ts).
 */
export const otpCodes = pgTable(
  'otp_codes',
  {
    phone: text('phone').primaryKey(),
    codeHash: text('code_hash').notNull(),
    attempts: integer('attempts').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    index('otp_codes_expires_at_idx').on(t.expiresAt),
    check('otp_codes_attempts_range', sql`${t.attempts} between 0 and 5`),
  ],
)

/**
 * A signed-in browser or client. The cookie carries only the session id; `id` here is its SHA-256
 * (app/models/auth-sessions.server.ts), and everything else about the session lives in the row.
 */
export const authSessions = pgTable(
  'auth_sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    userAgent: text('user_agent'),
    ipPrefix: text('ip_prefix'),
  },
  (t) => [
    index('auth_sessions_user_id_idx').on(t.userId),
    index('auth_sessions_expires_at_idx').on(t.expiresAt),
  ],
)

/**
 * Text messages the outbox SMS provider "sent" (development and tests only; refused in
 * production). Read at /dev/outbox.
 */
export const smsOutbox = pgTable(
  'sms_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    to: text('to').notNull(),
    body: text('body').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sms_outbox_sent_at_idx').on(t.sentAt)],
)
