// Restores a checked backup (backup-check.ts) into a Postgres: migrations up to the backup's version
// (the schema of record is migrations/, DESIGN.md "Backups"), then every row in one transaction with
// the foreign keys set aside while loading and put back (validated) at the end, the sequences set,
// and every table's row count and digest compared with the manifest before committing. Any
// difference rolls the data back.
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { createGunzip } from 'node:zlib'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import {
  qualifiedName,
  type Manifest,
  type ManifestTable,
} from '../../workers/jobs/backup/format'
import {
  appliedMigration,
  catalogTables,
  fixTextForms,
  tableDigest,
  type RunQuery,
  type TableShape,
} from '../../workers/jobs/backup/snapshot'
import { nodeSha256, type BackupReader } from './backup-files'
import { redact } from './dev-stack.mjs'
import { connect, migrate } from './migrate.mjs'
import { progressBar } from './progress'
import { ScriptError } from './script-database'

// Rows are sent to Postgres this many bytes of NDJSON at a time.
const LOAD_BATCH_BYTES = 4 * 1024 * 1024

export interface TargetState {
  /** The target's URL without its password. */
  description: string
  migration: Manifest['migration'] | null
  tables: number
  /** Tables that hold at least one row. */
  tablesWithRows: string[]
}

/** What the target holds now, read only, for the refusals and the confirmation prompt. */
export async function inspectTarget(url: string): Promise<TargetState> {
  const client = await connectTo(url)
  try {
    const run = runOn(client)
    const migration = await appliedMigration(run).catch(() => null)
    const tables = await catalogTables(run)
    const tablesWithRows: string[] = []
    for (const table of tables) {
      const [row] = await run<{ present: boolean }>(
        sql`select exists (select 1 from ${sql.identifier(table.schema)}.${sql.identifier(table.name)}) as present`,
      )
      if (row?.present) tablesWithRows.push(qualifiedName(table))
    }
    return {
      description: redact(url),
      migration,
      tables: tables.length,
      tablesWithRows,
    }
  } finally {
    await client.end().catch(() => {})
  }
}

/** Why the backup must not go into this target, or null. */
export function targetRefusal(
  manifest: Manifest,
  target: TargetState,
  { force }: { force: boolean },
): string | null {
  if (
    target.migration &&
    target.migration.createdAt > manifest.migration.createdAt
  )
    return (
      `the target is at migration ${target.migration.tag ?? target.migration.createdAt}, newer than the backup's ` +
      `${manifest.migration.tag ?? manifest.migration.createdAt}; migrations only go forward: restore into an empty database`
    )
  if (!target.migration && target.tables > 0)
    return `the target has ${target.tables} tables but no drizzle migrations: it is not a Kulti database; restore into an empty database`
  if (target.tablesWithRows.length > 0 && !force)
    return (
      `the target is not empty (rows in ${target.tablesWithRows.join(', ')}); restore into an empty database, ` +
      'or pass --force to replace everything in it with the backup'
    )
  return null
}

export interface RestoreResult {
  tables: number
  rows: number
  /** Migrations applied to reach the backup's version. */
  applied: string[]
}

/**
 * Loads the backup into `url`. Call only after checkBackup found no problem and targetRefusal none:
 * this changes the target (migrations first, then the data in one transaction).
 */
export async function restoreBackup(
  reader: BackupReader,
  manifest: Manifest,
  url: string,
  { force, label }: { force: boolean; label: string },
): Promise<RestoreResult> {
  const { applied } = await migrate(url, {
    upTo: manifest.migration.createdAt,
  })
  const client = await connectTo(url)
  try {
    const run = runOn(client)
    await client.query('begin')
    await fixTextForms(run)
    const tables = await catalogTables(run)
    const mismatch = schemaMismatch(manifest, tables)
    if (mismatch) throw new ScriptError(mismatch)
    if (force && tables.length > 0)
      await client.query(
        `truncate table ${tables.map(tableName).join(', ')} restart identity cascade`,
      )
    const putBack = await setAsideKeysAndIndexes(client, run)
    const totalRows = manifest.tables.reduce((sum, t) => sum + t.rows, 0)
    const progress = progressBar(label, totalRows, 'rows')
    let loaded = 0
    for (const table of manifest.tables) {
      loaded += await loadTable(client, reader, table, (rows) =>
        progress.update(loaded + rows, qualifiedName(table)),
      )
    }
    progress.finish('loaded')
    await putBack(label)
    for (const sequence of manifest.sequences) {
      if (sequence.lastValue === null) continue
      await client.query(
        `select setval(format('%I.%I', $1::text, $2::text)::regclass, $3::bigint, true)`,
        [sequence.schema, sequence.name, sequence.lastValue],
      )
    }
    const digests = progressBar(`${label} (digests)`, totalRows, 'rows')
    let compared = 0
    for (const table of manifest.tables) {
      const now = await tableDigest(run, shapeOf(table), nodeSha256())
      if (now.rows !== table.rows || now.contentSha256 !== table.contentSha256)
        throw new ScriptError(
          `${qualifiedName(table)} restored as ${now.rows} rows with digest ${now.contentSha256}, ` +
            `the backup has ${table.rows} rows with digest ${table.contentSha256}: nothing was restored`,
        )
      compared += table.rows
      digests.update(compared, qualifiedName(table))
    }
    digests.finish('every table matches the manifest')
    await client.query('commit')
    return { tables: manifest.tables.length, rows: totalRows, applied }
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * Restores into a database made for the purpose and dropped afterwards: a temporary database on
 * `serverUrl`, or, without one, an in-memory embedded PGlite.
 */
export async function withScratchDatabase<T>(
  serverUrl: string | undefined,
  work: (url: string, description: string) => Promise<T>,
): Promise<T> {
  if (!serverUrl) {
    // Loaded only here: PGlite's WebAssembly takes a while to load, and restores rarely need it.
    const { startEmbeddedPostgres } = await import('./embedded-postgres.mjs')
    const embedded = await startEmbeddedPostgres()
    try {
      return await work(embedded.connectionString, 'an in-memory PGlite')
    } finally {
      await embedded.close()
    }
  }
  const name = `kulti_restore_test_${randomBytes(6).toString('hex')}`
  const admin = await connectTo(serverUrl)
  try {
    await admin.query(`create database "${name}"`)
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    return await work(url.toString(), `a scratch database ${name}`)
  } finally {
    await admin
      .query(`drop database if exists "${name}" with (force)`)
      .catch(() => {})
    await admin.end().catch(() => {})
  }
}

const USER_TABLES = sql`
  select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname not in ('information_schema', 'drizzle') and left(n.nspname, 3) <> 'pg_'`

/**
 * Drops the foreign keys, then the indexes and the constraints that own one (primary keys, unique,
 * exclusion), of every user table, and returns what puts them back, as pg_restore does: rows go
 * into bare tables, each index is then built once from sorted data instead of updated row by row,
 * and the foreign keys are checked against all the rows whatever order the tables were loaded in.
 * All of it inside the load's transaction: a failure puts everything back as it was.
 */
async function setAsideKeysAndIndexes(
  client: pg.Client,
  run: RunQuery,
): Promise<(label: string) => Promise<void>> {
  const constraints = await run<{
    table: string
    name: string
    definition: string
    type: string
  }>(sql`
    select conrelid::regclass::text as table, quote_ident(conname) as name,
           pg_get_constraintdef(oid) as definition, contype::text as type
    from pg_constraint
    where contype in ('f', 'p', 'u', 'x') and conrelid in (${USER_TABLES})
    order by 1, 2`)
  const indexes = await run<{ name: string; definition: string }>(sql`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i
    where i.indrelid in (${USER_TABLES})
      and not exists (select 1 from pg_constraint c
                       where c.conindid = i.indexrelid and c.contype in ('p', 'u', 'x'))
    order by 1`)
  const foreignKeys = constraints.filter((c) => c.type === 'f')
  const owners = constraints.filter((c) => c.type !== 'f')
  for (const fk of foreignKeys)
    await client.query(`alter table ${fk.table} drop constraint ${fk.name}`)
  for (const index of indexes) await client.query(`drop index ${index.name}`)
  for (const owner of owners)
    await client.query(
      `alter table ${owner.table} drop constraint ${owner.name}`,
    )
  return async (label) => {
    const steps = [
      ...owners.map(
        (c) =>
          `alter table ${c.table} add constraint ${c.name} ${c.definition}`,
      ),
      ...indexes.map((index) => index.definition),
      ...foreignKeys.map(
        (c) =>
          `alter table ${c.table} add constraint ${c.name} ${c.definition}`,
      ),
    ]
    const progress = progressBar(
      `${label} (keys and indexes)`,
      steps.length,
      'built',
    )
    for (const [i, step] of steps.entries()) {
      await client.query(step)
      progress.update(i + 1)
    }
    progress.finish()
  }
}

/** Streams one table's file into it; returns its rows. */
async function loadTable(
  client: pg.Client,
  reader: BackupReader,
  table: ManifestTable,
  onRows: (rows: number) => void,
): Promise<number> {
  const file = await reader.open(table.file)
  if (!file)
    throw new ScriptError(
      `${table.file} disappeared from ${reader.description}`,
    )
  // Each line is an array of the columns' text forms: cast back through each column's own type.
  // Generated columns are computed by Postgres, so not inserted.
  const values = table.columns.flatMap((column, i) =>
    column.generated ? [] : [`(r->>${i})::${column.type}`],
  )
  const insert =
    `insert into ${tableName(table)} (${table.columns
      .filter((c) => !c.generated)
      .map((c) => quoteIdent(c.name))
      .join(', ')}) ` +
    `overriding system value select ${values.join(', ')} from jsonb_array_elements($1::jsonb) as r`
  const content = nodeSha256()
  let rows = 0
  for await (const batch of lineBatches(file, content.update)) {
    await client.query(insert, [`[${batch.join(',')}]`])
    rows += batch.length
    onRows(rows)
  }
  if (rows !== table.rows || (await content.digest()) !== table.contentSha256)
    throw new ScriptError(
      `${table.file} changed while it was being restored (${rows} rows read, the manifest says ${table.rows}): nothing was restored`,
    )
  return rows
}

/** The decompressed lines of a data file, about LOAD_BATCH_BYTES at a time. */
async function* lineBatches(
  file: Readable,
  onBytes: (chunk: Buffer) => void,
): AsyncGenerator<string[]> {
  const gunzip = createGunzip({ chunkSize: 256 * 1024 })
  file.on('error', (error) => gunzip.destroy(error))
  file.pipe(gunzip)
  const decoder = new StringDecoder('utf8')
  let partial: string[] = []
  let batch: string[] = []
  let size = 0
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    onBytes(chunk)
    const text = decoder.write(chunk)
    let start = 0
    for (
      let end = text.indexOf('\n');
      end !== -1;
      end = text.indexOf('\n', start)
    ) {
      const line = partial.join('') + text.slice(start, end)
      partial = []
      start = end + 1
      batch.push(line)
      size += line.length
      if (size >= LOAD_BATCH_BYTES) {
        yield batch
        batch = []
        size = 0
      }
    }
    if (start < text.length) partial.push(text.slice(start))
  }
  if (partial.join('') + decoder.end() !== '')
    throw new ScriptError('a data file ends in the middle of a row')
  if (batch.length > 0) yield batch
}

/** Why the migrated target cannot take the backup's rows, or null. */
function schemaMismatch(manifest: Manifest, tables: TableShape[]) {
  const at = manifest.migration.tag ?? manifest.migration.createdAt
  for (const table of manifest.tables) {
    const target = tables.find(
      (t) => t.schema === table.schema && t.name === table.name,
    )
    if (!target)
      return `the backup has a table ${qualifiedName(table)} that the migrations up to ${at} do not create`
    const describe = (columns: TableShape['columns']) =>
      columns
        .map((c) => `${c.name} ${c.type}${c.generated ? ' generated' : ''}`)
        .sort()
        .join(', ')
    if (describe(target.columns) !== describe(table.columns))
      return `${qualifiedName(table)} in the backup has columns (${describe(table.columns)}), the migrated target has (${describe(target.columns)})`
  }
  return null
}

function shapeOf(table: ManifestTable): TableShape {
  return {
    schema: table.schema,
    name: table.name,
    primaryKey: table.primaryKey,
    columns: table.columns,
  }
}

function quoteIdent(name: string) {
  return `"${name.replace(/"/g, '""')}"`
}

function tableName(table: { schema: string; name: string }) {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`
}

function runOn(client: pg.Client): RunQuery {
  const db = drizzle(client)
  return async <T extends object>(query: Parameters<typeof db.execute>[0]) =>
    (await db.execute(query)).rows as T[]
}

async function connectTo(url: string): Promise<pg.Client> {
  try {
    return await connect(url)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ScriptError(`cannot connect to ${redact(url)}: ${reason}`)
  }
}
