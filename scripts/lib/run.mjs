import { spawn } from 'node:child_process'
import { ROOT } from './wrangler-env.mjs'

/** Runs a command to completion with inherited output; rejects with its exit code. */
export function run(
  command,
  args,
  { env = process.env, cwd = ROOT, quiet = false } = {},
) {
  return new Promise((resolve, reject) => {
    let output = ''
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    })
    child.stdout?.on('data', (d) => (output += d))
    child.stderr?.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(output)
      else {
        if (quiet) process.stderr.write(output)
        reject(
          new Error(
            `${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`,
          ),
        )
      }
    })
  })
}
