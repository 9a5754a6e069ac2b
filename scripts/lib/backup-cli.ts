// What db:verify and db:restore share: the backup named first on the command line, then options.
import { UsageError } from './cli-args'

/** Splits `<backup> --option …` into the backup reference and the options after it. */
export function backupArgument(argv: readonly string[]): {
  reference: string
  rest: string[]
} {
  const [reference, ...rest] = argv
  if (!reference || reference.startsWith('--'))
    throw new UsageError('name the backup first: a folder or a backup id')
  return { reference, rest }
}
