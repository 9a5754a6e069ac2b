// `node scripts/audit.mjs [--registry <url>] [--allowlist <file>]`, run by `npm run check`: fails on a
// high or critical advisory in the production dependencies (`npm audit --omit=dev`) unless
// audit-allowlist.json accepts it, with a reason, until a date. When the registry's advisory
// service cannot be reached it fails too (nothing was checked), unless the allowlist accepts
// exactly this production dependency set offline, until a date. docs/security.md, "Dependencies".
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { judgeAudit, productionDependencies } from './lib/audit.mjs'
import { ROOT } from './lib/wrangler-env.mjs'

const { values } = parseArgs({
  options: {
    registry: { type: 'string' },
    allowlist: {
      type: 'string',
      default: path.join(ROOT, 'audit-allowlist.json'),
    },
  },
})

/** npm audit's JSON report, or why there is none. */
function npmAudit() {
  const args = ['audit', '--omit=dev', '--json']
  if (values.registry) args.push('--registry', values.registry)
  return new Promise((resolve) => {
    execFile(
      'npm',
      args,
      { cwd: ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        let parsed
        try {
          parsed = JSON.parse(stdout)
        } catch {
          parsed = null
        }
        // npm exits 1 when it found vulnerabilities; a report is a report either way.
        if (parsed?.vulnerabilities) return resolve({ report: parsed })
        const why =
          parsed?.message ??
          parsed?.error?.summary ??
          (error
            ? String(error.message).split('\n')[0]
            : 'no JSON from npm audit')
        resolve({ report: null, unreachable: why })
      },
    )
  })
}

const allowlist = JSON.parse(readFileSync(values.allowlist, 'utf8'))
const fingerprint = productionDependencies(
  JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')),
)
const { report, unreachable } = await npmAudit()
const { problems, notes } = judgeAudit({
  report,
  unreachable,
  allowlist,
  fingerprint,
  today: new Date().toISOString().slice(0, 10),
})
for (const note of notes) console.log(`  note: ${note}`)
if (problems.length) {
  console.error(`npm audit: ${problems.length} problem(s):`)
  for (const problem of problems) console.error(`  - ${problem}`)
  process.exit(1)
}
const counts = report?.metadata?.vulnerabilities
console.log(
  report
    ? `  production dependencies: no unaccepted high or critical advisory (${counts?.total ?? 0} advisories of any level)`
    : '  production dependencies: not audited (accepted offline, see above)',
)
