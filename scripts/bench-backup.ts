// `npm run bench:backup [-- --server <postgres url> --sizes 100000,1000000]`: a benchmark, not a
// test. For each size, a database with that many credit-ledger rows is backed up and restored by
// db:backup / db:restore and by pg_dump / psql on the same data in the same run, each timed with
// its peak memory (GNU time); then the nightly job runs in the built Worker (Miniflare, as the
// tests run it) to measure rows per CPU-second of workerd, the figure the one-invocation limit is
// computed from (docs/backup-recovery.md). Creates and drops kulti_bench_* databases on the server.
import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Miniflare } from 'miniflare'
import pg from 'pg'
import { parseOptions, UsageError } from './lib/cli-args'
import { migrate } from './lib/migrate.mjs'
import { formatBytes } from './lib/progress'
import { ScriptError, runScript } from './lib/script-database'
import { ROOT } from './lib/wrangler-env.mjs'
import { startWsRelay } from './lib/ws-relay.mjs'

const SCRIPT = 'bench:backup'
const USAGE = `usage: npm run ${SCRIPT} [-- --server <postgres url> --sizes <rows,rows,…>]`
const DEFAULT_SERVER = 'postgresql://postgres@127.0.0.1:5432/postgres'
const TSX = path.join(ROOT, 'node_modules/.bin/tsx')
const APP_BUNDLE = path.join(ROOT, 'dist/app/app.js')
const DAILY = '0 3 * * *'

interface Measured {
  seconds: number
  peakMiB: number
  cpuSeconds: number
}

/** Runs a command under GNU time: wall seconds, peak RSS (the largest process of the tree), CPU. */
function timed(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'BENCH %e %M %U %S', command, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('exit', (code) => {
      const line = /^BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/m.exec(output)
      if (code !== 0 || !line)
        return reject(
          new Error(
            `${command} ${args.join(' ')} failed:\n${output.slice(-2000)}`,
          ),
        )
      resolve({
        seconds: Number(line[1]),
        peakMiB: Number(line[2]) / 1024,
        cpuSeconds: Number(line[3]) + Number(line[4]),
      })
    })
  })
}

function databaseUrl(server: string, name: string) {
  const url = new URL(server)
  url.pathname = `/${name}`
  return url.toString()
}

async function admin<T>(
  server: string,
  work: (client: pg.Client) => Promise<T>,
) {
  const client = new pg.Client({ connectionString: server })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

async function recreate(server: string, name: string) {
  await admin(server, async (client) => {
    await client.query(`drop database if exists "${name}" with (force)`)
    await client.query(`create database "${name}"`)
  })
  return databaseUrl(server, name)
}

/** `rows` ledger rows over rows/100 users (at least 1,000), shaped like real ones. */
async function fillLedger(url: string, rows: number) {
  const users = Math.max(1_000, Math.floor(rows / 100))
  const perUser = Math.ceil(rows / users)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(
      `insert into users (phone, username, display_name, credits, credit_seq)
       select '+1558' || lpad(n::text, 8, '0'), 'bench' || n, 'Bench user ' || n, 0, 0
       from generate_series(1, $1) as n`,
      [users],
    )
    await client.query(
      `insert into credit_transactions (user_id, seq, amount, balance_after, type, idempotency_key, metadata, created_at)
       select u.id, s, 10, 10 * s,
              (array['settlement_viewer','settlement_presenter','tip_received','milestone'])[1 + s % 4],
              'session:' || md5(u.id::text || s), jsonb_build_object('minutes', s % 90, 'note', 'watched a session'),
              now() - make_interval(mins => s)
       from (select id, row_number() over (order by id) as rn from users) as u
       cross join generate_series(1, $1) as s
       where (u.rn - 1) * $1 + s <= $2`,
      [perUser, rows],
    )
    await client.query(
      `update users u set credits = l.balance, credit_seq = l.seq
       from (select user_id, max(seq) as seq, max(balance_after) as balance from credit_transactions group by user_id) l
       where l.user_id = u.id`,
    )
    await client.query('analyze')
  } finally {
    await client.end()
  }
}

interface WorkerRun {
  seconds: number
  cpuSeconds: number
  peakMiB: number
}

/** The nightly job in the built Worker (workerd through Miniflare), timed by workerd's own CPU. */
async function runWorkerJob(url: string): Promise<WorkerRun> {
  const relay = await startWsRelay()
  const state = mkdtempSync(path.join(tmpdir(), 'kulti-bench-r2-'))
  const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8')
  const mf = new Miniflare({
    r2Persist: state,
    // The job's log lines are not the benchmark's output.
    handleRuntimeStdio(
      stdout: NodeJS.ReadableStream,
      stderr: NodeJS.ReadableStream,
    ) {
      stdout.resume()
      stderr.resume()
    },
    workers: [
      {
        name: 'app',
        modules: [{ type: 'ESModule', path: APP_BUNDLE }],
        compatibilityDate: /^compatibility_date\s*=\s*"([^"]+)"/m.exec(
          toml,
        )![1]!,
        compatibilityFlags: ['nodejs_compat'],
        bindings: {
          ENVIRONMENT: 'development',
          DATABASE_URL: url,
          DB_WSPROXY: relay.address,
          SESSION_SECRETS: 'bench-session-secret-0123456789abcdef',
          OTP_SECRET: 'bench-otp-secret-0123456789abcdef',
          HMS_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef',
          SMS_PROVIDER: 'outbox',
        },
        durableObjects: {
          RATE_LIMITER: { className: 'RateLimiter', useSQLite: true },
        },
        r2Buckets: ['BACKUPS'],
      },
    ],
  })
  try {
    await mf.ready
    const workerd = childProcesses('workerd')
    if (workerd.length === 0) throw new Error('no workerd process found')
    const cpuBefore = workerd.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
    const started = Date.now()
    const worker = await mf.getWorker('app')
    const { outcome } = await worker.scheduled({ cron: DAILY })
    if (outcome !== 'ok') throw new Error(`the scheduled run ended ${outcome}`)
    const seconds = (Date.now() - started) / 1000
    const cpu =
      workerd.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore
    const peakMiB = Math.max(...workerd.map(peakRssMiB))
    return { seconds, cpuSeconds: cpu, peakMiB }
  } finally {
    await mf.dispose()
    await relay.close()
    rmSync(state, { recursive: true, force: true })
  }
}

/** Processes named `name` below this one (Miniflare starts workerd as a child). */
function childProcesses(name: string): number[] {
  const found: number[] = []
  const parents = new Set([process.pid])
  for (let depth = 0; depth < 3; depth++) {
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry)
      if (!Number.isInteger(pid) || parents.has(pid)) continue
      let stat: string
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      } catch {
        continue
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (!parents.has(Number(fields[1]))) continue
      parents.add(pid)
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      if (comm === name && !found.includes(pid)) found.push(pid)
    }
  }
  return found
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024
}

function folderBytes(folder: string): number {
  let total = 0
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name)
    total += entry.isDirectory() ? folderBytes(full) : readFileSync(full).length
  }
  return total
}

const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}×`
const secs = (s: number) => `${s.toFixed(1)} s`
const mib = (m: number) => `${m.toFixed(0)} MiB`

async function bench(server: string, rows: number) {
  const work = mkdtempSync(path.join(tmpdir(), 'kulti-bench-'))
  const names = ['src', 'dst', 'dst_psql'].map(
    (n) => `kulti_bench_${rows}_${n}`,
  )
  try {
    process.stderr.write(
      `${SCRIPT}: ${rows.toLocaleString('en-US')} ledger rows: filling…\n`,
    )
    const source = await recreate(server, names[0]!)
    await migrate(source)
    await fillLedger(source, rows)

    process.stderr.write(`${SCRIPT}: db:backup…\n`)
    const out = path.join(work, 'ours')
    const ourBackup = await timed(TSX, ['scripts/db-backup.ts', '--out', out], {
      DATABASE_URL: source,
      DB_WSPROXY: undefined,
    })
    const backupFolder = path.join(out, readdirSync(out)[0]!)
    process.stderr.write(`${SCRIPT}: pg_dump…\n`)
    const dump = path.join(work, 'dump.sql.gz')
    const pgDump = await timed('pg_dump', [
      '--format=plain',
      '--compress=6',
      '--no-owner',
      `--file=${dump}`,
      `--dbname=${source}`,
    ])

    process.stderr.write(`${SCRIPT}: db:restore…\n`)
    const target = await recreate(server, names[1]!)
    const ourRestore = await timed(TSX, [
      'scripts/db-restore.ts',
      backupFolder,
      '--target',
      target,
      '--yes',
    ])
    process.stderr.write(`${SCRIPT}: psql…\n`)
    const psqlTarget = await recreate(server, names[2]!)
    const psql = await timed('sh', [
      '-c',
      `gunzip -c "${dump}" | psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "${psqlTarget}" > /dev/null`,
    ])

    let worker: WorkerRun | undefined
    if (existsSync(APP_BUNDLE)) {
      process.stderr.write(`${SCRIPT}: the nightly job in the built Worker…\n`)
      worker = await runWorkerJob(source)
    } else {
      process.stderr.write(
        `${SCRIPT}: ${APP_BUNDLE} is missing (npm run build): the Worker run is left out\n`,
      )
    }
    return {
      rows,
      ourBackup,
      pgDump,
      ourRestore,
      psql,
      ourBytes: folderBytes(backupFolder),
      dumpBytes: readFileSync(dump).length,
      worker,
    }
  } finally {
    for (const name of names)
      await admin(server, (c) =>
        c.query(`drop database if exists "${name}" with (force)`),
      ).catch(() => {})
    rmSync(work, { recursive: true, force: true })
  }
}

await runScript(SCRIPT, async () => {
  let server: string
  let sizes: number[]
  try {
    const options = parseOptions(process.argv.slice(2), {
      strings: ['server', 'sizes'],
    })
    server =
      options.server ??
      process.env.BENCH_DATABASE_URL ??
      process.env.TEST_DATABASE_URL ??
      DEFAULT_SERVER
    sizes = (options.sizes ?? '100000,1000000').split(',').map(Number)
    if (sizes.some((n) => !Number.isInteger(n) || n < 1))
      throw new UsageError('--sizes takes whole numbers, comma-separated')
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${SCRIPT}: ${error.message}\n${USAGE}`)
    return 1
  }
  for (const tool of ['pg_dump', 'psql', '/usr/bin/time'])
    if (!(await available(tool)))
      throw new ScriptError(`${tool} is not installed: the comparison needs it`)
  await admin(server, async () => {}).catch((error) => {
    throw new ScriptError(
      `cannot connect to ${new URL(server).host} (${error.message}); pass --server <postgres url>`,
    )
  })
  const results = []
  for (const rows of sizes) results.push(await bench(server, rows))

  console.log(
    `\n${SCRIPT}: credit-ledger rows on ${new URL(server).host} (wall time, peak RSS of the largest process)\n`,
  )
  console.log(
    '| ledger rows | backup: db:backup / pg_dump | restore: db:restore / psql | backup peak memory | restore peak memory | compressed size |',
  )
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const r of results) {
    console.log(
      `| ${r.rows.toLocaleString('en-US')} ` +
        `| ${secs(r.ourBackup.seconds)} / ${secs(r.pgDump.seconds)} = ${ratio(r.ourBackup.seconds, r.pgDump.seconds)} ` +
        `| ${secs(r.ourRestore.seconds)} / ${secs(r.psql.seconds)} = ${ratio(r.ourRestore.seconds, r.psql.seconds)} ` +
        `| ${mib(r.ourBackup.peakMiB)} / ${mib(r.pgDump.peakMiB)} ` +
        `| ${mib(r.ourRestore.peakMiB)} / ${mib(r.psql.peakMiB)} ` +
        `| ${formatBytes(r.ourBytes)} / ${formatBytes(r.dumpBytes)} |`,
    )
  }
  const withWorker = results.filter((r) => r.worker)
  if (withWorker.length > 0) {
    console.log(
      '\nThe nightly job in the built Worker (workerd via Miniflare, database through the local relay):\n',
    )
    console.log(
      '| ledger rows | wall time | workerd CPU | rows per CPU-second | workerd peak RSS |',
    )
    console.log('| --- | --- | --- | --- | --- |')
    for (const r of withWorker) {
      const w = r.worker!
      console.log(
        `| ${r.rows.toLocaleString('en-US')} | ${secs(w.seconds)} | ${secs(w.cpuSeconds)} ` +
          `| ${Math.round(r.rows / w.cpuSeconds).toLocaleString('en-US')} | ${mib(w.peakMiB)} |`,
      )
    }
  }
  console.log(
    `\nCPU of the scripts (user+sys): ${results
      .map(
        (r) =>
          `${r.rows.toLocaleString('en-US')} rows: db:backup ${secs(r.ourBackup.cpuSeconds)}, pg_dump ${secs(r.pgDump.cpuSeconds)}, ` +
          `db:restore ${secs(r.ourRestore.cpuSeconds)}, psql ${secs(r.psql.cpuSeconds)}`,
      )
      .join('; ')}`,
  )
  return 0
})

function available(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, ['--version'], { stdio: 'ignore' })
    child.on('error', () => resolve(false))
    child.on('exit', () => resolve(true))
  })
}
