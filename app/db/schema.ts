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
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
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
 * is recognised and answered without being applied twice.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    payload: jsonb('payload').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('webhook_events_event_id_key').on(t.eventId),
    index('webhook_events_applied_at_idx').on(t.appliedAt),
  ],
)
