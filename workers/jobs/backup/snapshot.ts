// Exports a consistent snapshot of every table, found in the catalog (no list to keep up to date),
// in primary-key order, as NDJSON: one JSON array per row holding each column's text form, which
// reads back exactly through the column's own type (the same round trip as pg_dump's COPY text).
// Run inside one REPEATABLE READ, READ ONLY transaction; used by the nightly job, db:backup, and by
// db:restore to recompute a restored table's digest.
import { sql, type SQL } from 'drizzle-orm'
import journal from '../../../migrations/meta/_journal.json'
import {
  BACKUP_FORMAT_VERSION,
  dataFileName,
  qualifiedName,
  type Manifest,
  type ManifestTable,
} from './format'

/** Runs one query on the snapshot's connection; the Worker and the scripts each bring their own. */
export type RunQuery = <T extends object>(query: SQL) => Promise<T[]>

/** An incremental SHA-256: crypto.DigestStream in the Worker, node:crypto in the scripts. */
export interface Sha256 {
  update(chunk: Uint8Array): void | Promise<void>
  /** Lowercase hex. */
  digest(): Promise<string>
}

export interface TableShape {
  schema: string
  name: string
  primaryKey: string[]
  columns: Array<{ name: string; type: string; generated: boolean }>
}

/**
 * A batch holds at most `maxRows` rows and stops at the row that crosses `maxBytes` of NDJSON, so
 * memory stays bounded by the batch whatever the table's size, even with large text values.
 */
export interface BatchLimits {
  maxRows: number
  maxBytes: number
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = {
  maxRows: 10_000,
  maxBytes: 4 * 1024 * 1024,
}

/**
 * Fixes every setting that changes a type's text form (time zone, date and interval styles, float
 * digits, bytea), for the rest of the transaction: the same row then gives the same bytes on any
 * server, and a restored table's digest can be compared with the one in the manifest.
 */
export async function fixTextForms(run: RunQuery): Promise<void> {
  await run(
    sql`select set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
               set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '3', true),
               set_config('bytea_output', 'hex', true)`,
  )
}

/**
 * Every ordinary and partitioned table outside the system schemas and drizzle's bookkeeping (which
 * the migrations rebuild), without extension-owned ones, in name order; `primaryKey` is empty for a
 * table without one.
 */
export async function catalogTables(run: RunQuery): Promise<TableShape[]> {
  const rows = await run<{
    schema: string
    name: string
    columns: string
    primary_key: string | null
  }>(sql`
    select n.nspname as schema, c.relname as name,
      (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                         'generated', a.attgenerated <> '') order by a.attnum)
         from pg_attribute a
        where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped)::text as columns,
      (select json_agg(a.attname order by k.ord)
         from pg_index i
         cross join unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where i.indrelid = c.oid and i.indisprimary)::text as primary_key
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition and c.relpersistence <> 't'
      and n.nspname not in ('information_schema', 'drizzle') and left(n.nspname, 3) <> 'pg_'
      and not exists (select 1 from pg_depend d
                       where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
    order by n.nspname, c.relname`)
  return rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    primaryKey: row.primary_key
      ? (JSON.parse(row.primary_key) as string[])
      : [],
    columns: row.columns
      ? (JSON.parse(row.columns) as TableShape['columns'])
      : [],
  }))
}

/** The tables to back up: all of them, each with the primary key its rows are read in order of. */
export async function discoverTables(run: RunQuery): Promise<TableShape[]> {
  const tables = await catalogTables(run)
  for (const table of tables) {
    if (table.primaryKey.length === 0)
      throw new Error(
        `table ${qualifiedName(table)} has no primary key: the backup reads every table in key order, so each needs one`,
      )
  }
  return tables
}

/** The table's rows in primary-key order, a batch of NDJSON lines (each ending in \n) at a time. */
export async function* tableBatches(
  run: RunQuery,
  table: TableShape,
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): AsyncGenerator<{ text: string; rows: number }> {
  const column = (name: string) => sql`t.${sql.identifier(name)}`
  const keyType = (name: string) => {
    const found = table.columns.find((c) => c.name === name)
    if (!found) throw new Error(`${qualifiedName(table)} has no column ${name}`)
    return found.type
  }
  const key = sql.join(table.primaryKey.map(column), sql`, `)
  const keyAlias = (i: number) => sql.identifier(`k${i}`)
  const line = sql`to_json(array[${sql.join(
    table.columns.map((c) => sql`${column(c.name)}::text`),
    sql`, `,
  )}]::text[])::text`
  const keyTexts = sql.join(
    table.primaryKey.map(
      (name, i) => sql`${column(name)}::text as ${keyAlias(i)}`,
    ),
    sql`, `,
  )
  const lastKey = sql.join(
    table.primaryKey.map(
      (_, i) =>
        sql`(array_agg(${keyAlias(i)} order by ord desc))[1] as ${keyAlias(i)}`,
    ),
    sql`, `,
  )
  let after: Array<string | null> | null = null
  for (;;) {
    const from: SQL = after
      ? sql`where (${key}) > (${sql.join(
          after.map(
            (value, i) =>
              sql`${value}::${sql.raw(keyType(table.primaryKey[i]!))}`,
          ),
          sql`, `,
        )})`
      : sql``
    const [batch] = await run<{
      rows: number
      text: string
      [key: `k${number}`]: string | null
    }>(sql`
      select count(*)::int as rows, coalesce(string_agg(line, chr(10) order by ord), '') as text, ${lastKey}
      from (
        select line, ord, ${sql.join(
          table.primaryKey.map((_, i) => keyAlias(i)),
          sql`, `,
        )}, sum(octet_length(line)) over (order by ord) - octet_length(line) as before
        from (
          select ${line} as line, ${keyTexts}, row_number() over (order by ${key}) as ord
          from ${sql.identifier(table.schema)}.${sql.identifier(table.name)} as t
          ${from}
          order by ${key}
          limit ${limits.maxRows}
        ) as page
      ) as sized
      where before < ${limits.maxBytes}`)
    if (!batch || batch.rows === 0) return
    yield { text: `${batch.text}\n`, rows: batch.rows }
    after = table.primaryKey.map((_, i) => batch[`k${i}`] ?? null)
  }
}

/** Where a snapshot's files go: an R2 prefix (the job, db:backup) or a folder (db:backup --out). */
export interface SnapshotWriter {
  /** Stores one data file; resolves once it is stored whole. */
  writeFile(name: string, data: ReadableStream<Uint8Array>): Promise<void>
  writeManifest(text: string): Promise<void>
}

export interface SnapshotOptions {
  id: string
  run: RunQuery
  writer: SnapshotWriter
  sha256: () => Sha256
  limits?: BatchLimits
  /** Called after each batch with the table and its rows so far (progress output). */
  onRows?: (table: TableShape, rows: number) => void
}

/**
 * Writes every table, then the manifest. The caller opens the REPEATABLE READ, READ ONLY
 * transaction, so every table is read from the same snapshot.
 */
export async function exportSnapshot(
  options: SnapshotOptions,
): Promise<Manifest> {
  const { run, writer } = options
  await fixTextForms(run)
  const [now] = await run<{ ms: string; version: string }>(
    sql`select (extract(epoch from transaction_timestamp()) * 1000)::bigint::text as ms,
               current_setting('server_version') as version`,
  )
  const migration = await appliedMigration(run)
  const tables = await discoverTables(run)
  const sequences = await run<{
    schema: string
    name: string
    lastValue: string | null
  }>(sql`
    select schemaname as schema, sequencename as name, last_value::text as "lastValue"
    from pg_sequences
    where schemaname not in ('information_schema', 'drizzle') and left(schemaname, 3) <> 'pg_'
    order by schemaname, sequencename`)
  const written: ManifestTable[] = []
  for (const table of tables) {
    written.push(await exportTable(table, options))
  }
  const manifest: Manifest = {
    format: 'kulti-backup',
    formatVersion: BACKUP_FORMAT_VERSION,
    id: options.id,
    createdAt: new Date(Number(now?.ms)).toISOString(),
    finishedAt: new Date().toISOString(),
    migration,
    postgresVersion: now?.version ?? 'unknown',
    tables: written,
    sequences,
  }
  // Last: its presence is what makes the files above a backup.
  await writer.writeManifest(`${JSON.stringify(manifest, null, 2)}\n`)
  return manifest
}

async function exportTable(
  table: TableShape,
  { run, writer, sha256, limits, onRows }: SnapshotOptions,
): Promise<ManifestTable> {
  const content = sha256()
  const stored = sha256()
  let rows = 0
  let bytes = 0
  const encoder = new TextEncoder()
  const batches = tableBatches(run, table, limits)
  const ndjson = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await batches.next()
        if (next.done) {
          controller.close()
          return
        }
        const chunk = encoder.encode(next.value.text)
        rows += next.value.rows
        await content.update(chunk)
        onRows?.(table, rows)
        controller.enqueue(chunk)
      },
      async cancel() {
        await batches.return(undefined)
      },
    },
    // Read the next batch only when the compressor wants more: one batch in memory at a time.
    { highWaterMark: 0 },
  )
  // Typed for what it accepts (any BufferSource); it is fed Uint8Arrays only.
  const compress = new CompressionStream('gzip') as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >
  const gzip = ndjson.pipeThrough(compress).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        bytes += chunk.byteLength
        await stored.update(chunk)
        controller.enqueue(chunk)
      },
    }),
  )
  const file = dataFileName(table)
  await writer.writeFile(file, gzip)
  return {
    schema: table.schema,
    name: table.name,
    file,
    primaryKey: table.primaryKey,
    columns: table.columns,
    rows,
    bytes,
    sha256: await stored.digest(),
    contentSha256: await content.digest(),
  }
}

/** The newest migration drizzle applied (it stores the journal's `when` as created_at). */
export async function appliedMigration(
  run: RunQuery,
): Promise<Manifest['migration']> {
  const [bookkeeping] = await run<{ present: boolean }>(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  )
  const [last] = bookkeeping?.present
    ? await run<{ created_at: string | null }>(
        sql`select max(created_at)::text as created_at from drizzle.__drizzle_migrations`,
      )
    : []
  if (!last?.created_at)
    throw new Error(
      'the database has no applied migrations (drizzle.__drizzle_migrations is missing or empty)',
    )
  const createdAt = Number(last.created_at)
  const entry = journal.entries.find((e) => e.when === createdAt)
  return { tag: entry?.tag ?? null, createdAt }
}

/** Rows and digest of a table as it is now: what db:restore compares with the manifest. */
export async function tableDigest(
  run: RunQuery,
  table: TableShape,
  sha256: Sha256,
  limits?: BatchLimits,
): Promise<{ rows: number; contentSha256: string }> {
  const encoder = new TextEncoder()
  let rows = 0
  for await (const batch of tableBatches(run, table, limits)) {
    rows += batch.rows
    await sha256.update(encoder.encode(batch.text))
  }
  return { rows, contentSha256: await sha256.digest() }
}
