import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
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
    // The position of the user's latest ledger row: each change takes the next one, so two
    // writers can never both extend the chain (credit_transactions is unique on user_id, seq).
    creditSeq: integer('credit_seq').notNull().default(0),
    // May open /ops (the operations page); set by `npm run ops:grant -- <username>`, never by a request.
    operator: boolean('operator').notNull().default(false),
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

/**
 * A live session: a 100ms room (created first, SPEC §2) and the room code people join by. `status`
 * moves live → ended once; the row is never deleted, so recordings, chat and ledger rows keep their
 * session. HLS state comes from 100ms's hls.* webhooks, ordered by their event time.
 */
export const liveSessions = pgTable(
  'live_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    roomCode: text('room_code').notNull(),
    hmsRoomId: text('hms_room_id').notNull(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => users.id),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    isPublic: boolean('is_public').notNull(),
    maxPresenters: integer('max_presenters').notNull().default(4),
    status: text('status', { enum: ['live', 'ended'] })
      .notNull()
      .default('live'),
    // The current 100ms session (session.open.success); 100ms opens a new one when a room is reused.
    hmsSessionId: text('hms_session_id'),
    hlsStatus: text('hls_status', { enum: ['off', 'starting', 'running'] })
      .notNull()
      .default('off'),
    hlsUrl: text('hls_url'),
    // Event time of the last HLS change applied, so an older event never undoes a newer one.
    hlsChangedAt: timestamp('hls_changed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    // A host's boost (500 credits) features the session until then; boosted sessions list first.
    boostedUntil: timestamp('boosted_until', { withTimezone: true }),
    // When the 100ms room was ended and disabled; null on an ended session = still to do (job).
    roomClosedAt: timestamp('room_closed_at', { withTimezone: true }),
    // When the chat moved from the session's Durable Object to chat_messages; null = still to do.
    chatArchivedAt: timestamp('chat_archived_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('live_sessions_room_code_key').on(t.roomCode),
    uniqueIndex('live_sessions_hms_room_id_key').on(t.hmsRoomId),
    index('live_sessions_host_id_idx').on(t.hostId, t.createdAt),
    // The public live list and the abandoned-session job read live rows only.
    index('live_sessions_live_idx')
      .on(t.isPublic, t.createdAt)
      .where(sql`${t.status} = 'live'`),
    index('live_sessions_room_to_close_idx')
      .on(t.endedAt)
      .where(sql`${t.status} = 'ended' and ${t.roomClosedAt} is null`),
    index('live_sessions_chat_to_archive_idx')
      .on(t.endedAt)
      .where(sql`${t.status} = 'ended' and ${t.chatArchivedAt} is null`),
    check(
      'live_sessions_title_length',
      sql`char_length(${t.title}) between 1 and 60`,
    ),
    check(
      'live_sessions_description_length',
      sql`char_length(${t.description}) <= 280`,
    ),
    check(
      'live_sessions_max_presenters_range',
      sql`${t.maxPresenters} between 2 and 6`,
    ),
    check('live_sessions_status_values', sql`${t.status} in ('live', 'ended')`),
    check(
      'live_sessions_hls_status_values',
      sql`${t.hlsStatus} in ('off', 'starting', 'running')`,
    ),
    check(
      'live_sessions_ended_at',
      sql`(${t.status} = 'ended') = (${t.endedAt} is not null)`,
    ),
  ],
)

/**
 * Who may be in a session and as what: the host (its creator), presenters (promoted by the host)
 * and viewers (everyone else who asked for a token). The role of a join token comes from here,
 * never from the client.
 */
export const sessionParticipants = pgTable(
  'session_participants',
  {
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role', { enum: ['host', 'presenter', 'viewer'] }).notNull(),
    // Named by the host (SPEC §2a): may hide messages, time out, ban and set slow mode.
    isModerator: boolean('is_moderator').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.userId] }),
    index('session_participants_user_id_idx').on(t.userId),
    check(
      'session_participants_role_values',
      sql`${t.role} in ('host', 'presenter', 'viewer')`,
    ),
  ],
)

/**
 * One 100ms peer's presence in a session, from peer.join/peer.leave webhooks: the watch time that
 * credits pay for (never client heartbeats). Keyed by 100ms's peer id, so a join and a leave fill
 * the same row in whichever order they arrive, and duplicates change nothing.
 */
export const peerIntervals = pgTable(
  'peer_intervals',
  {
    peerId: text('peer_id').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    // Ours when the peer joined with our token; null for peers we cannot match to an account.
    userId: uuid('user_id').references(() => users.id, {
      onDelete: 'set null',
    }),
    role: text('role').notNull(),
    joinedAt: timestamp('joined_at', { withTimezone: true }),
    leftAt: timestamp('left_at', { withTimezone: true }),
    // Event time of the role last applied (role.change.success), so changes apply in order.
    roleChangedAt: timestamp('role_changed_at', { withTimezone: true }),
  },
  (t) => [
    index('peer_intervals_session_id_idx').on(t.sessionId),
    // Live counts: the open intervals of a session.
    index('peer_intervals_open_idx')
      .on(t.sessionId, t.role)
      .where(sql`${t.leftAt} is null`),
  ],
)

/**
 * 100ms rooms created for a session whose row could not be written, and that could not be disabled
 * at once either: the clean-up job disables them, so no room is left open.
 */
export const orphanHmsRooms = pgTable('orphan_hms_rooms', {
  hmsRoomId: text('hms_room_id').primaryKey(),
  reason: text('reason').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true })
    .notNull()
    .defaultNow(),
  attempts: integer('attempts').notNull().default(0),
})

/**
 * One row per ended session, written by the settlement seam in the transaction that ends it. The
 * primary key makes "settled exactly once" a fact of the database: a second settlement would fail.
 * The credits work adds what was paid.
 */
export const sessionSettlements = pgTable('session_settlements', {
  sessionId: uuid('session_id')
    .primaryKey()
    .references(() => liveSessions.id, { onDelete: 'cascade' }),
  settledAt: timestamp('settled_at', { withTimezone: true })
    .notNull()
    .defaultNow(),
})

export const CREDIT_TYPES = [
  'settlement_viewer',
  'settlement_presenter',
  'settlement_host',
  'bonus_welcome',
  'milestone',
  'tip_sent',
  'tip_received',
  'boost',
  'admin_adjustment',
] as const

/**
 * The ledger (SPEC §3): append-only, one row per change of one user's balance, numbered per user
 * (`seq`), with the balance after it. The database holds the invariants: a balance never below 0,
 * one row per (user, idempotency key) so no event is paid twice, one row per (user, seq) so the
 * chain cannot fork. `users.credits` is the running balance, changed in the same transaction.
 */
export const creditTransactions = pgTable(
  'credit_transactions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    seq: integer('seq').notNull(),
    amount: integer('amount').notNull(),
    balanceAfter: integer('balance_after').notNull(),
    type: text('type', { enum: CREDIT_TYPES }).notNull(),
    sessionId: uuid('session_id').references(() => liveSessions.id),
    counterpartyId: uuid('counterparty_id').references(() => users.id),
    idempotencyKey: text('idempotency_key').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    uniqueIndex('credit_transactions_user_seq_key').on(t.userId, t.seq),
    uniqueIndex('credit_transactions_user_key_key').on(
      t.userId,
      t.idempotencyKey,
    ),
    index('credit_transactions_user_created_idx').on(t.userId, t.createdAt),
    index('credit_transactions_created_idx').on(t.createdAt),
    check('credit_transactions_amount_nonzero', sql`${t.amount} <> 0`),
    check(
      'credit_transactions_balance_non_negative',
      sql`${t.balanceAfter} >= 0`,
    ),
    check('credit_transactions_seq_positive', sql`${t.seq} > 0`),
    check(
      'credit_transactions_type_values',
      sql`${t.type} in ('settlement_viewer', 'settlement_presenter', 'settlement_host', 'bonus_welcome', 'milestone', 'tip_sent', 'tip_received', 'boost', 'admin_adjustment')`,
    ),
  ],
)

/**
 * The first answer to a request sent with an `Idempotency-Key` (tips, boosts): a retry with the same
 * key gets it again instead of paying again. Written in the transaction that paid.
 */
export const idempotentResponses = pgTable(
  'idempotent_responses',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    key: text('key').notNull(),
    // The request the key was first used for; the same key with another request is refused.
    fingerprint: text('fingerprint').notNull(),
    status: integer('status').notNull(),
    body: jsonb('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    // The daily prune's filter (pruneIdempotencyRecords).
    index('idempotent_responses_created_at_idx').on(t.createdAt),
  ],
)

export const RECORDING_STATUSES = [
  'recording',
  'processing',
  'completed',
  'failed',
] as const

/**
 * A recording of a session (SPEC §4): written first (status `recording`) when the host starts one,
 * then moved forward only by 100ms's webhooks and the reconciliation job: recording → processing →
 * completed | failed. The partial unique index is the "one active recording per session" rule, so
 * two concurrent starts cannot both succeed. `applied_*` is the ordering key (status rank, event
 * time, event type) of the last event whose values won, so a late or older event only fills what is
 * still empty. Playback URLs are never stored: they are presigned on request from the asset id.
 */
export const recordings = pgTable(
  'recordings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    status: text('status', { enum: RECORDING_STATUSES })
      .notNull()
      .default('recording'),
    // 100ms's ids: the recording (REST id = `job_id`/`recording_id` in webhooks), its session
    // and beam, and the asset that holds the file; null until 100ms has told us.
    hmsRecordingId: text('hms_recording_id'),
    hmsSessionId: text('hms_session_id'),
    hmsBeamId: text('hms_beam_id'),
    hmsAssetId: text('hms_asset_id'),
    assetPath: text('asset_path'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    stoppedAt: timestamp('stopped_at', { withTimezone: true }),
    durationSeconds: integer('duration_seconds'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    width: integer('width'),
    height: integer('height'),
    format: text('format', { enum: ['mp4', 'hls'] }),
    failureReason: text('failure_reason'),
    appliedRank: integer('applied_rank').notNull().default(0),
    appliedEventAt: timestamp('applied_event_at', { withTimezone: true }),
    appliedEventType: text('applied_event_type'),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    // Server time of the last change: the reconciliation job looks at rows quiet for 2 hours.
    updatedAt: timestamp('updated_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    uniqueIndex('recordings_one_active_per_session')
      .on(t.sessionId)
      .where(sql`${t.status} = 'recording'`),
    uniqueIndex('recordings_hms_recording_id_key').on(t.hmsRecordingId),
    index('recordings_session_id_idx').on(t.sessionId, t.createdAt),
    index('recordings_unsettled_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} in ('recording', 'processing')`),
    check(
      'recordings_status_values',
      sql`${t.status} in ('recording', 'processing', 'completed', 'failed')`,
    ),
    check(
      'recordings_format_values',
      sql`${t.format} is null or ${t.format} in ('mp4', 'hls')`,
    ),
    check(
      'recordings_non_negative',
      sql`coalesce(${t.durationSeconds}, 0) >= 0 and coalesce(${t.sizeBytes}, 0) >= 0`,
    ),
  ],
)

/** People banned from a session by its host or a moderator: no chat, no join token. */
export const sessionBans = pgTable(
  'session_bans',
  {
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    bannedBy: uuid('banned_by')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.userId] })],
)

/** A host's blocked chat terms: messages containing one are shown only to their author. */
export const chatBlockedTerms = pgTable(
  'chat_blocked_terms',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => users.id),
    term: text('term').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.hostId, t.term] }),
    check(
      'chat_blocked_terms_length',
      sql`char_length(${t.term}) between 1 and 50`,
    ),
  ],
)

/**
 * A session's chat once it ended, archived from its Durable Object in one transaction. `id` is the
 * object's message id (increasing within the session). Hidden and held-back messages are kept for
 * the audit and the host's export; replay shows neither.
 */
export const chatMessages = pgTable(
  'chat_messages',
  {
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    id: integer('id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    displayName: text('display_name').notNull(),
    text: text('text').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
    isQuestion: boolean('is_question').notNull().default(false),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    hiddenAt: timestamp('hidden_at', { withTimezone: true }),
    hiddenBy: uuid('hidden_by').references(() => users.id),
    // Contained one of the host's blocked terms: only its author ever saw it.
    isHeld: boolean('is_held').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.id] }),
    index('chat_messages_user_id_idx').on(t.userId),
    check(
      'chat_messages_text_length',
      sql`char_length(${t.text}) between 1 and 500`,
    ),
  ],
)

/** Every moderation action in a session's chat, with who took it (archived with the messages). */
export const chatModerationActions = pgTable(
  'chat_moderation_actions',
  {
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    action: text('action').notNull(),
    targetUserId: uuid('target_user_id').references(() => users.id),
    messageId: integer('message_id'),
    // Minutes of a timeout, seconds of slow mode.
    amount: integer('amount'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.seq] })],
)

/**
 * One row per run of a scheduled job (workers/jobs/run-jobs.ts) and of `npm run credits:audit`:
 * when it ran, whether it succeeded and a short detail (its summary, or the error). Read by /ops;
 * the daily prune keeps the newest JOB_RUNS_KEPT per job.
 */
export const jobRuns = pgTable(
  'job_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    ok: boolean('ok').notNull(),
    detail: text('detail').notNull().default(''),
  },
  (t) => [
    // The latest run of each job (/ops) and the prune's "all but the newest".
    index('job_runs_name_started_at_idx').on(t.name, t.startedAt),
    check('job_runs_detail_length', sql`char_length(${t.detail}) <= 1000`),
  ],
)

/**
 * How many requests each rate-limit policy refused, per hour (ADR 019): counted in each isolate
 * and added here off the response path, at most once per isolate every few seconds. Read by /ops;
 * the daily prune drops hours older than 30 days.
 */
export const rateLimitRefusals = pgTable(
  'rate_limit_refusals',
  {
    policy: text('policy').notNull(),
    hour: timestamp('hour', { withTimezone: true }).notNull(),
    refusals: integer('refusals').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.policy, t.hour] }),
    index('rate_limit_refusals_hour_idx').on(t.hour),
    check('rate_limit_refusals_positive', sql`${t.refusals} >= 0`),
  ],
)
