// Backups in R2: `<backup id>/<table file>` and `<backup id>/manifest.json`. Used by the nightly job
// and, through wrangler's local R2 (getPlatformProxy), by the scripts in development.
import { backupTime, MANIFEST_FILE, PART_SIZE } from './format'
import type { SnapshotWriter } from './snapshot'

/**
 * Writes a snapshot under `id/`. A file is cut into PART_SIZE parts as it streams (R2's `put()`
 * needs a known length, and a multipart upload takes equal parts), so at most one part is held in
 * memory; a file smaller than one part is a single `put()`.
 */
export function r2SnapshotWriter(bucket: R2Bucket, id: string): SnapshotWriter {
  return {
    async writeFile(name, data) {
      const key = `${id}/${name}`
      const reader = data.getReader()
      const buffer = new PartBuffer()
      let upload: R2MultipartUpload | undefined
      const parts: R2UploadedPart[] = []
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          buffer.push(value)
          while (buffer.size >= PART_SIZE) {
            upload ??= await bucket.createMultipartUpload(key)
            parts.push(
              await upload.uploadPart(parts.length + 1, buffer.take(PART_SIZE)),
            )
          }
        }
        const rest = buffer.take(buffer.size)
        if (!upload) {
          await bucket.put(key, rest)
          return
        }
        if (rest.byteLength > 0)
          parts.push(await upload.uploadPart(parts.length + 1, rest))
        await upload.complete(parts)
      } catch (error) {
        await reader.cancel(error).catch(() => {})
        await upload?.abort().catch(() => {})
        throw error
      }
    },
    async writeManifest(text) {
      await bucket.put(`${id}/${MANIFEST_FILE}`, text, {
        httpMetadata: { contentType: 'application/json' },
      })
    },
  }
}

/** Chunks as they arrive from the compressor, handed out in parts of an exact size. */
class PartBuffer {
  private chunks: Uint8Array[] = []
  size = 0

  push(chunk: Uint8Array) {
    this.chunks.push(chunk)
    this.size += chunk.byteLength
  }

  take(length: number): Uint8Array {
    const part = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const chunk = this.chunks[0]!
      const needed = length - filled
      if (chunk.byteLength <= needed) {
        part.set(chunk, filled)
        filled += chunk.byteLength
        this.chunks.shift()
      } else {
        part.set(chunk.subarray(0, needed), filled)
        this.chunks[0] = chunk.subarray(needed)
        filled = length
      }
    }
    this.size -= length
    return part
  }
}

export interface StoredBackup {
  id: string
  createdAt: Date
  /** Has its manifest: only then is it a backup (and only then may pruning delete it). */
  complete: boolean
  keys: string[]
  /** What its objects take in the bucket. */
  bytes: number
}

/** Every backup folder in the bucket, newest first; keys outside a backup id's folder are left out. */
export async function listBackups(bucket: R2Bucket): Promise<StoredBackup[]> {
  const byId = new Map<string, StoredBackup>()
  let cursor: string | undefined
  do {
    const page = await bucket.list({ cursor, limit: 1000 })
    for (const object of page.objects) {
      const slash = object.key.indexOf('/')
      if (slash < 0) continue
      const id = object.key.slice(0, slash)
      const createdAt = backupTime(id)
      if (!createdAt) continue
      const backup = byId.get(id) ?? {
        id,
        createdAt,
        complete: false,
        keys: [],
        bytes: 0,
      }
      backup.keys.push(object.key)
      backup.bytes += object.size
      if (object.key === `${id}/${MANIFEST_FILE}`) backup.complete = true
      byId.set(id, backup)
    }
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return [...byId.values()].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
  )
}

/** Deletes a backup's objects, the manifest first: a half-deleted backup reads as incomplete. */
export async function deleteBackup(bucket: R2Bucket, backup: StoredBackup) {
  const manifest = `${backup.id}/${MANIFEST_FILE}`
  if (backup.keys.includes(manifest)) await bucket.delete(manifest)
  const rest = backup.keys.filter((key) => key !== manifest)
  for (let i = 0; i < rest.length; i += 1000)
    await bucket.delete(rest.slice(i, i + 1000))
}
