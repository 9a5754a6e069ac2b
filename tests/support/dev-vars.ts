import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** A variable from `.dev.vars`, the file wrangler dev (and so `npm run dev`) reads secrets from. */
export function devVar(name: string): string {
  const text = readFileSync(path.join(ROOT, '.dev.vars'), 'utf8')
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (match?.[1] === name) return match[2]!.replace(/^"(.*)"$/, '$1')
  }
  throw new Error(`${name} is not set in .dev.vars`)
}
