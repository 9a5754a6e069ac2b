// Where the backup scripts read and write backups: a folder on disk (`--out`, or a path given to
// db:verify / db:restore), or the BACKUPS bucket in wrangler's local R2 state, the same one `npm run
// dev` and `wrangler dev` use (.wrangler/state, or --persist-to), opened with wrangler's
// getPlatformProxy. Both hold the same layout: `<backup id>/<table file>` and `<backup id>/manifest.json`.
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web'
import { isBackupId, MANIFEST_FILE } from '../../workers/jobs/backup/format'
import type { Sha256, SnapshotWriter } from '../../workers/jobs/backup/snapshot'
import { ScriptError } from './script-database'
import { DEFAULT_PERSIST_TO } from './dev-stack.mjs'
import { ROOT, wranglerEnv } from './wrangler-env.mjs'

export function nodeSha256(): Sha256 {
  const hash = createHash('sha256')
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => hash.digest('hex'),
  }
}

/** A backup to read: its files by name, wherever it is kept. */
export interface BackupReader {
  /** What it is, for messages: a folder path or `R2 <id> (local state in …)`. */
  description: string
  /** The file's bytes as a stream, or null when there is no such file. */
  open(name: string): Promise<Readable | null>
  readText(name: string): Promise<string | null>
  close(): Promise<void>
}

/**
 * Opens `reference`: a folder holding manifest.json or the table files, or the id of a backup in
 * the local R2 state.
 */
export async function openBackup(
  reference: string,
  { persistTo }: { persistTo?: string } = {},
): Promise<BackupReader> {
  if (existsSync(reference)) {
    if (!(await stat(reference)).isDirectory())
      throw new ScriptError(
        `${reference} is a file; give the backup's folder (the one holding manifest.json)`,
      )
    return folderReader(reference)
  }
  const id = reference.replace(/\/(manifest\.json)?$/, '')
  if (!isBackupId(id))
    throw new ScriptError(
      `${reference} is neither a folder nor a backup id (like 2026-05-01T03-00-00.000Z-1a2b3c); ` +
        '`npm run db:verify -- --list` lists the backups in the local R2',
    )
  const local = await openLocalBucket(persistTo)
  return {
    description: `R2 backup ${id} (${local.description})`,
    async open(name) {
      const object = await local.bucket.get(`${id}/${name}`)
      if (!object) return null
      return Readable.fromWeb(object.body as unknown as NodeWebReadableStream)
    },
    async readText(name) {
      const object = await local.bucket.get(`${id}/${name}`)
      return object ? object.text() : null
    },
    close: () => local.dispose(),
  }
}

function folderReader(folder: string): BackupReader {
  const file = (name: string) => path.join(folder, name)
  return {
    description: folder,
    async open(name) {
      if (!existsSync(file(name))) return null
      return createReadStream(file(name))
    },
    async readText(name) {
      return existsSync(file(name)) ? readFile(file(name), 'utf8') : null
    },
    async close() {},
  }
}

/** Writes a snapshot into `folder` (created; it must not exist yet). */
export async function folderWriter(folder: string): Promise<SnapshotWriter> {
  if (existsSync(folder)) throw new ScriptError(`${folder} already exists`)
  await mkdir(folder, { recursive: true })
  return {
    async writeFile(name, data) {
      await pipeline(
        Readable.fromWeb(data as unknown as NodeWebReadableStream),
        createWriteStream(path.join(folder, name), { flags: 'wx' }) as Writable,
      )
    },
    async writeManifest(text) {
      await writeFile(path.join(folder, MANIFEST_FILE), text, { flag: 'wx' })
    },
  }
}

export interface LocalBucket {
  bucket: R2Bucket
  description: string
  dispose(): Promise<void>
}

/**
 * The BACKUPS bucket in wrangler's local state (`<persistTo>/v3/r2`), through getPlatformProxy: a
 * workerd with only that binding, so the files are exactly where the dev Worker's job writes them.
 */
export async function openLocalBucket(
  persistTo = DEFAULT_PERSIST_TO,
): Promise<LocalBucket> {
  // wrangler must not phone home (DESIGN.md, "Offline wrangler").
  Object.assign(process.env, wranglerEnv({ WRANGLER_LOG: 'error' }))
  const { getPlatformProxy } = await import('wrangler')
  // Only the bucket: the app's wrangler.toml also binds a Durable Object this proxy cannot run.
  const config = mkdtempSync(path.join(tmpdir(), 'kulti-r2-'))
  const configPath = path.join(config, 'wrangler.toml')
  writeFileSync(
    configPath,
    [
      'name = "kulti-backup-scripts"',
      `compatibility_date = "${compatibilityDate()}"`,
      '[[r2_buckets]]',
      'binding = "BACKUPS"',
      `bucket_name = "${backupsBucketName()}"`,
      '',
    ].join('\n'),
  )
  try {
    const proxy = await getPlatformProxy<{ BACKUPS: R2Bucket }>({
      configPath,
      persist: { path: path.join(path.resolve(persistTo), 'v3') },
      envFiles: [],
      remoteBindings: false,
    })
    return {
      bucket: proxy.env.BACKUPS,
      description: `local R2 in ${path.relative(ROOT, path.resolve(persistTo)) || '.'}/`,
      dispose: () => proxy.dispose(),
    }
  } finally {
    rmSync(config, { recursive: true, force: true })
  }
}

const APP_CONFIG = path.join(ROOT, 'wrangler.toml')

function backupsBucketName(): string {
  const toml = readFileSync(APP_CONFIG, 'utf8')
  const name =
    /\[\[r2_buckets\]\]\s*binding\s*=\s*"BACKUPS"\s*bucket_name\s*=\s*"([^"]+)"/.exec(
      toml,
    )?.[1]
  if (!name) throw new Error('wrangler.toml binds no BACKUPS bucket')
  return name
}

function compatibilityDate(): string {
  const toml = readFileSync(APP_CONFIG, 'utf8')
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1]
  if (!date) throw new Error('wrangler.toml has no compatibility_date')
  return date
}
