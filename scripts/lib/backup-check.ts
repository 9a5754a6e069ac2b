// Checks a backup without a database: manifest.json present and of a format this checkout reads,
// the tables the product cannot lose present, and every data file there, of the size and SHA-256 the
// manifest gives, decompressing to the rows and content digest it gives. db:verify prints the
// result; db:restore refuses to touch its target unless there is no problem.
import { createHash } from 'node:crypto'
import { Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import {
  dataFileName,
  ESSENTIAL_TABLES,
  MANIFEST_FILE,
  qualifiedName,
  readManifest,
  type Manifest,
  type ManifestTable,
} from '../../workers/jobs/backup/format'
import type { BackupReader } from './backup-files'
import { formatBytes, formatCount, progressBar } from './progress'

export interface BackupCheck {
  manifest: Manifest | null
  /** One sentence each; empty when the backup can be restored. */
  problems: string[]
}

export async function checkBackup(
  reader: BackupReader,
  { label }: { label: string },
): Promise<BackupCheck> {
  const text = await reader.readText(MANIFEST_FILE)
  if (text === null)
    return {
      manifest: null,
      problems: [
        `${reader.description} has no ${MANIFEST_FILE}: the backup is incomplete (its writer stopped before the end) and cannot be used`,
      ],
    }
  const reading = readManifest(text)
  if (!reading.ok) return { manifest: null, problems: [reading.problem] }
  const { manifest } = reading
  const problems: string[] = []
  const names = new Set(manifest.tables.map(qualifiedName))
  for (const essential of ESSENTIAL_TABLES) {
    if (!names.has(essential))
      problems.push(`the backup has no table ${essential}`)
  }
  const totalBytes = manifest.tables.reduce((sum, t) => sum + t.bytes, 0)
  const progress = progressBar(label, totalBytes, 'bytes')
  let doneBytes = 0
  for (const table of manifest.tables) {
    const problem = await checkTable(reader, table, (bytes) =>
      progress.update(doneBytes + bytes, qualifiedName(table)),
    )
    if (problem) problems.push(`${qualifiedName(table)}: ${problem}`)
    doneBytes += table.bytes
  }
  progress.finish(
    `${manifest.tables.length} tables, ${formatCount(
      manifest.tables.reduce((sum, t) => sum + t.rows, 0),
    )} rows, ${formatBytes(totalBytes)}`,
  )
  return { manifest, problems }
}

/** What is wrong with one table's file, or null. */
async function checkTable(
  reader: BackupReader,
  table: ManifestTable,
  onBytes: (bytes: number) => void,
): Promise<string | null> {
  // The manifest names the file; a name of its own choosing could point outside the backup.
  if (table.file !== dataFileName(table))
    return `the manifest names its file ${JSON.stringify(table.file)}, not ${dataFileName(table)}`
  const file = await reader.open(table.file)
  if (!file) return `its file ${table.file} is missing`
  const stored = createHash('sha256')
  const content = createHash('sha256')
  let bytes = 0
  let rows = 0
  try {
    await pipeline(
      file,
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          stored.update(chunk)
          bytes += chunk.length
          onBytes(bytes)
          done(null, chunk)
        },
      }),
      createGunzip(),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          content.update(chunk)
          rows += countNewlines(chunk)
          done()
        },
      }),
    )
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return `${table.file} is damaged or truncated: it does not decompress (${reason})`
  }
  if (bytes !== table.bytes)
    return `${table.file} holds ${bytes} bytes, the manifest says ${table.bytes}`
  if (stored.digest('hex') !== table.sha256)
    return `${table.file} does not match its SHA-256 in the manifest: the file is corrupt`
  if (rows !== table.rows)
    return `${table.file} holds ${rows} rows, the manifest says ${table.rows}`
  if (content.digest('hex') !== table.contentSha256)
    return `the rows in ${table.file} do not match their digest in the manifest`
  return null
}

function countNewlines(chunk: Buffer): number {
  let count = 0
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1))
    count += 1
  return count
}
