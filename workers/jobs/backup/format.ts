// The backup format, shared by the nightly job and the db:backup / db:verify / db:restore scripts
// (docs/backup-recovery.md, ADR 016). A backup is a folder (an R2 prefix, or a directory on disk):
// one gzip-compressed NDJSON file per table, then manifest.json, written last. No manifest, no backup.
import * as z from 'zod'

/** Raised when a reader of the previous format could no longer read what a writer writes. */
export const BACKUP_FORMAT_VERSION = 1
export const MANIFEST_FILE = 'manifest.json'

/**
 * R2 multipart parts must all have one size, at least 5 MiB, but the last: the gzip stream is cut
 * into parts of exactly this size, so no more than one part is held in memory.
 */
export const PART_SIZE = 5 * 1024 * 1024

/**
 * The tables the product cannot lose (SPEC §7): db:verify refuses a backup without them, so a
 * catalog query that silently found nothing cannot pass for a backup.
 */
export const ESSENTIAL_TABLES = [
  'public.users',
  'public.live_sessions',
  'public.session_participants',
  'public.credit_transactions',
  'public.recordings',
] as const

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/)

const ManifestColumn = z.object({
  name: z.string(),
  /** `format_type()` of the column: the cast that reads its text form back. */
  type: z.string(),
  /** Computed by Postgres: exported, never inserted. */
  generated: z.boolean(),
})

const ManifestTable = z.object({
  schema: z.string(),
  name: z.string(),
  /** The data file, in the backup's folder. */
  file: z.string(),
  /** The primary key's columns, the order of the rows in the file. */
  primaryKey: z.array(z.string()).min(1),
  /** Every line of the file is a JSON array of these columns' text forms (null for NULL). */
  columns: z.array(ManifestColumn).min(1),
  rows: z.number().int().nonnegative(),
  /** Size and SHA-256 of the compressed file as stored. */
  bytes: z.number().int().nonnegative(),
  sha256: Sha256Hex,
  /** SHA-256 of the uncompressed NDJSON: the table's digest, recomputed from a restored database. */
  contentSha256: Sha256Hex,
})

export const Manifest = z.object({
  format: z.literal('kulti-backup'),
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  id: z.string(),
  /** The snapshot's time (the start of its transaction). */
  createdAt: z.iso.datetime({ offset: true }),
  finishedAt: z.iso.datetime({ offset: true }),
  /** The newest drizzle migration applied: `createdAt` is its journal `when`, what drizzle stores. */
  migration: z.object({
    tag: z.string().nullable(),
    createdAt: z.number().int(),
  }),
  postgresVersion: z.string(),
  tables: z.array(ManifestTable),
  /** `last_value` of every sequence (text: a bigint), null when it was never used. */
  sequences: z.array(
    z.object({
      schema: z.string(),
      name: z.string(),
      lastValue: z.string().nullable(),
    }),
  ),
})

export type Manifest = z.infer<typeof Manifest>
export type ManifestTable = z.infer<typeof ManifestTable>

export type ManifestReading =
  | { ok: true; manifest: Manifest }
  | { ok: false; problem: string }

/**
 * Reads manifest.json, refusing what this version cannot trust: not JSON, another format, a newer
 * format version (checked first, so a newer manifest is named as such rather than as malformed).
 */
export function readManifest(text: string): ManifestReading {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, problem: 'manifest.json is not valid JSON' }
  }
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion
  if (typeof version === 'number' && version > BACKUP_FORMAT_VERSION)
    return {
      ok: false,
      problem: `the backup is in format version ${version}, newer than this checkout reads (${BACKUP_FORMAT_VERSION}): use the Kulti version that wrote it`,
    }
  const parsed = Manifest.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return {
      ok: false,
      problem: `manifest.json is not a Kulti backup manifest (${issue?.path.join('.') || 'root'}: ${issue?.message})`,
    }
  }
  return { ok: true, manifest: parsed.data }
}

/** `schema.table`, as tables are named in messages and in ESSENTIAL_TABLES. */
export function qualifiedName(table: { schema: string; name: string }) {
  return `${table.schema}.${table.name}`
}

/** The data file of a table: safe as a file name and an R2 key whatever the table is called. */
export function dataFileName(table: { schema: string; name: string }) {
  return `${encodeURIComponent(table.schema)}.${encodeURIComponent(table.name)}.ndjson.gz`
}

const BACKUP_ID =
  /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)\.(\d{3})Z-[0-9a-f]{6}$/

/** `2026-05-01T03-00-00.123Z-1a2b3c`: sorts by time, readable, valid as a folder name anywhere. */
export function newBackupId(at: Date): string {
  const random = crypto.getRandomValues(new Uint8Array(3))
  const suffix = Array.from(random, (b) => b.toString(16).padStart(2, '0'))
  return `${at.toISOString().replace(/:/g, '-')}-${suffix.join('')}`
}

export function isBackupId(value: string): boolean {
  return BACKUP_ID.test(value)
}

/** The time in a backup id, or null for a name that is not one (never pruned). */
export function backupTime(id: string): Date | null {
  const match = BACKUP_ID.exec(id)
  if (!match) return null
  const [, date, h, m, s, ms] = match
  return new Date(`${date}T${h}:${m}:${s}.${ms}Z`)
}
