import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestDatabase } from './database'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface ScriptRun {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs `npm run <script> -- <args>` against a test database, as an operator would: DATABASE_URL is
 * the database and DB_WSPROXY its relay. Resolves with the exit code instead of throwing.
 */
export function runNpmScript(
  database: Pick<TestDatabase, 'databaseUrl' | 'wsProxy'>,
  script: string,
  args: string[] = [],
  /** More environment variables for the script (SENTRY_DSN…). */
  env: Record<string, string> = {},
): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', script, '--', ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: database.databaseUrl,
          DB_WSPROXY: database.wsProxy,
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}
