// A small `--name value` / `--name=value` parser for the operator scripts. Node's util.parseArgs
// refuses a value that starts with a dash (`--amount -50`), which is exactly what a debit looks like.

export class UsageError extends Error {}

/**
 * Parses `argv` against the option names a script knows: `string` options take a value, `flag`
 * options take none. Unknown options, missing values and stray arguments are usage errors.
 */
export function parseOptions<S extends string, F extends string = never>(
  argv: readonly string[],
  { strings, flags = [] }: { strings: readonly S[]; flags?: readonly F[] },
): Partial<Record<S, string>> & Partial<Record<F, true>> {
  const values: Record<string, string | true> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const match = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg)
    if (!match) throw new UsageError(`unexpected argument: ${arg}`)
    const name = match[1]!
    if ((flags as readonly string[]).includes(name)) {
      if (match[2] !== undefined)
        throw new UsageError(`--${name} takes no value`)
      values[name] = true
    } else if ((strings as readonly string[]).includes(name)) {
      const value = match[2] ?? argv[++i]
      if (value === undefined) throw new UsageError(`--${name} needs a value`)
      if (name in values) throw new UsageError(`--${name} given twice`)
      values[name] = value
    } else {
      throw new UsageError(`unknown option --${name}`)
    }
  }
  return values as Partial<Record<S, string>> & Partial<Record<F, true>>
}

/** A command line's `<base-url>`: an http(s) origin with nothing after it (`what` names it in errors). */
export function parseOrigin(value: string, what: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`${what} is not a URL: ${value}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${what} must be an http(s) URL: ${value}`)
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    throw new UsageError(
      `${what} must be an origin without a path, e.g. ${url.origin}`,
    )
  return new URL(url.origin)
}
