import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

// DESIGN.md's rules of where code lives, checked against the code itself, so a shortcut across
// rooms fails the tests instead of waiting for a review.
const APP = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(APP, '..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sources(full)
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)
      ? [full]
      : []
  })
}

/** Every module a file imports (type-only imports included), resolved to a path under the root when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((match) => match[1]!)
  return specifiers.map((spec) =>
    spec.startsWith('.')
      ? path.relative(ROOT, path.resolve(path.dirname(file), spec))
      : spec,
  )
}

const room = (dir: string) => sources(path.join(ROOT, dir))
const rel = (file: string) => path.relative(ROOT, file)

function violations(
  files: string[],
  forbidden: (target: string) => boolean,
): string[] {
  return files.flatMap((file) =>
    importsOf(file)
      .filter(forbidden)
      .map((target) => `${rel(file)} imports ${target}`),
  )
}

describe('import rules (DESIGN "Layout" and "Where a flow lives")', () => {
  test('nothing imports from routes/', () => {
    const everything = [...room('app'), ...room('workers'), ...room('scripts')]
    expect(
      violations(everything, (t) => t.startsWith('app/routes/')).filter(
        (v) => !v.startsWith('app/routes/'),
      ),
    ).toEqual([])
  })

  test('utils/ imports no model', () => {
    expect(
      violations(room('app/utils'), (t) => t.startsWith('app/models/')),
    ).toEqual([])
  })

  test('a service imports no model', () => {
    expect(
      violations(room('app/services'), (t) => t.startsWith('app/models/')),
    ).toEqual([])
  })

  test('models import no route, component, Remix or Hono', () => {
    expect(
      violations(
        room('app/models'),
        (t) =>
          t.startsWith('app/routes/') ||
          t.startsWith('app/components/') ||
          t.startsWith('@remix-run/') ||
          t === 'hono' ||
          t.startsWith('hono/'),
      ),
    ).toEqual([])
  })

  test('the schema imports nothing above it', () => {
    expect(
      violations(
        room('app/db'),
        (t) => t.startsWith('app/') && !t.startsWith('app/db/'),
      ),
    ).toEqual([])
  })

  test('the webhooks Worker imports no Remix or React', () => {
    expect(
      violations(room('workers/webhooks'), (t) =>
        /^(react|react-dom|@remix-run\/)/.test(t),
      ),
    ).toEqual([])
  })
})

describe('errors are typed below the routes (ADR 010)', () => {
  test('no model or service builds an HTTP response', () => {
    const builders =
      /\bnew Response\(|\bResponse\.json\(|(?<![.\w])json\(|(?<![.\w])redirect\(/
    const offenders = [...room('app/models'), ...room('app/services')].filter(
      (file) => builders.test(readFileSync(file, 'utf8')),
    )
    expect(offenders.map(rel)).toEqual([])
  })

  test('every page action goes through formAction, every JSON route through apiRoute', () => {
    const routes = room('app/routes')
    const offenders = routes.filter((file) => {
      const text = readFileSync(file, 'utf8')
      const isApi = /^app\/routes\/(api\.|dev\.outbox\[)/.test(rel(file))
      const hasAction =
        /export (const|async function|function) action\b|export const \{[^}]*\baction\b/.test(
          text,
        )
      if (!hasAction) return false
      return isApi
        ? !/apiRoute\(/.test(text) && !/jsonError\(/.test(text)
        : !/export function action\(args: ActionFunctionArgs\) \{\s*return formAction\(/.test(
            text,
          )
    })
    expect(offenders.map(rel)).toEqual([])
  })
})
