import { Client, Pool, neonConfig } from '@neondatabase/serverless'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/neon-serverless'
import pg from 'pg'
import ws, { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  queryMessage,
  startupMessage,
  terminateMessage,
  typedMessage,
} from '../support/pg-wire'
import { startWsRelay } from '../../scripts/lib/ws-relay.mjs'
import { createTestDatabase, type TestDatabase } from '../support/database'

// The neon driver, in Node, through the local relay: the path every Worker takes in development
// and tests. Runs on embedded PGlite (serialising relay) and on TEST_DATABASE_URL (pooling relay).

const onPostgres = Boolean(process.env.TEST_DATABASE_URL)

let database: TestDatabase
/** The relay the driver goes through: the test database's, or one a test starts. */
let relayAddress: string

beforeAll(async () => {
  database = await createTestDatabase()
  relayAddress = database.wsProxy
  neonConfig.webSocketConstructor = ws
  neonConfig.wsProxy = (host, port) =>
    `${relayAddress}/v2?address=${host}:${port}`
  neonConfig.useSecureWebSocket = false
  neonConfig.pipelineTLS = false
  neonConfig.pipelineConnect = false
})

afterAll(async () => {
  await database?.close()
})

async function withPool<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({
    connectionString: database.databaseUrl,
    connectionTimeoutMillis: 10_000,
  })
  pool.on('error', () => {})
  try {
    return await work(pool)
  } finally {
    await pool.end()
  }
}

async function createUser(username: string, credits = 0) {
  const [row] = await database.query<{ id: string }>(
    'insert into users (username, credits) values ($1, $2) returning id',
    [username, credits],
  )
  return row!.id
}

async function creditsOf(username: string) {
  const rows = await database.query<{ credits: number }>(
    'select credits from users where username = $1',
    [username],
  )
  return rows.map((row) => row.credits)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the neon driver through the relay', () => {
  test('runs a query', async () => {
    const { rows } = await withPool((pool) =>
      pool.query('select 1 + 1 as two, gen_random_uuid() as id'),
    )
    expect(rows[0].two).toBe(2)
    expect(rows[0].id).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('commits an interactive drizzle transaction', async () => {
    await withPool(async (pool) => {
      const db = drizzle(pool)
      await db.transaction(async (tx) => {
        await tx.execute(sql`insert into users (username) values ('committed')`)
        // Read back inside the transaction: a real interactive transaction, not a batch.
        const seen = await tx.execute(
          sql`select count(*)::int as n from users where username = 'committed'`,
        )
        expect(seen.rows[0]).toEqual({ n: 1 })
      })
    })
    expect(await creditsOf('committed')).toEqual([0])
  })

  test('rolls back a drizzle transaction that throws', async () => {
    await withPool(async (pool) => {
      const db = drizzle(pool)
      const attempt = db.transaction(async (tx) => {
        await tx.execute(
          sql`insert into users (username) values ('rolled-back')`,
        )
        throw new Error('changed my mind')
      })
      await expect(attempt).rejects.toThrow('changed my mind')
    })
    expect(await creditsOf('rolled-back')).toEqual([])
  })

  test('keeps 10 concurrent transactions apart (read, then write what was read + 1)', async () => {
    const id = await createUser('counter')
    const seen = await Promise.all(
      Array.from({ length: 10 }, () =>
        withPool(async (pool) => {
          const client = await pool.connect()
          try {
            await client.query('BEGIN')
            const { rows } = await client.query(
              'select credits from users where id = $1 for update',
              [id],
            )
            const credits = rows[0].credits as number
            // Widen the window in which another client's statements could land in this transaction.
            await sleep(5)
            await client.query('update users set credits = $2 where id = $1', [
              id,
              credits + 1,
            ])
            await client.query('COMMIT')
            return credits
          } finally {
            client.release()
          }
        }),
      ),
    )
    expect(seen.toSorted((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ])
    expect(await creditsOf('counter')).toEqual([10])
  })

  test('keeps the messages of 10 concurrent parameterised queries apart', async () => {
    // Each query is Parse/Bind/Describe/Execute/Sync on the unnamed statement: interleaved on one
    // PGlite backend, a Bind would land on another client's statement.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withPool(async (pool) => {
          const answers = []
          for (let round = 0; round < 3; round++) {
            const { rows } = await pool.query(
              `select $1::int * ${i + 1} as product, $2::text as tag${i}`,
              [round + 1, `client-${i}`],
            )
            answers.push(rows[0])
          }
          return answers
        }),
      ),
    )
    results.forEach((answers, i) => {
      expect(answers).toEqual(
        [1, 2, 3].map((n) => ({
          product: n * (i + 1),
          [`tag${i}`]: `client-${i}`,
        })),
      )
    })
  })

  test('recovers from a client that disconnects mid-transaction', async () => {
    await createUser('abandoned', 1)
    const client = new Client({ connectionString: database.databaseUrl })
    client.on('error', () => {})
    await client.connect()
    await client.query('begin')
    await client.query(
      `update users set credits = 999 where username = 'abandoned'`,
    )
    // Drop the WebSocket without a Terminate or a close handshake, like a killed isolate.
    const socket = (
      client as unknown as { connection: { stream: { ws: WebSocket } } }
    ).connection.stream.ws
    const gone = new Promise((resolve) => client.once('end', resolve))
    socket.terminate()
    await gone

    // The next client gets a clean session, and the abandoned row lock is gone.
    const { rows } = await withPool((pool) =>
      pool.query(
        `update users set credits = credits + 1 where username = 'abandoned' returning credits`,
      ),
    )
    expect(rows).toEqual([{ credits: 2 }])
    expect(await creditsOf('abandoned')).toEqual([2])
  })

  test('waits while a direct connection briefly holds the database (PGlite takes one)', async () => {
    const direct = await connectDirectly()
    const queried = withPool((pool) => pool.query('select 1 as one'))
    await sleep(150)
    await direct.end()
    expect((await queried).rows).toEqual([{ one: 1 }])
  })

  test('serves the next client after a raw client sends Terminate in the same frame as a query', async () => {
    const url = new URL(database.databaseUrl)
    const raw = new WebSocket(
      `ws://${database.wsProxy}/v2?address=${url.hostname}:${url.port || 5432}`,
    )
    const received: Buffer[] = []
    raw.on('message', (data: Buffer) => received.push(data))
    const closed = new Promise<number>((resolve) => raw.once('close', resolve))
    await new Promise((resolve, reject) =>
      raw.once('open', resolve).once('error', reject),
    )

    const startup = startupMessage({
      user: url.username,
      database: url.pathname.slice(1),
    })
    // The startup message split across two frames, then a query and Terminate in one frame.
    raw.send(startup.subarray(0, 5))
    raw.send(startup.subarray(5))
    await until(() => backendMessages(received).includes('Z'))
    raw.send(
      Buffer.concat([
        queryMessage('select 42 as answer'),
        Buffer.from([0x58, 0, 0, 0, 4]),
      ]),
    )
    await withTimeout(
      closed,
      5_000,
      'the relay did not close the connection after Terminate',
    )
    expect(
      backendMessages(received).filter((type) => type === 'Z'),
    ).toHaveLength(2)

    const { rows } = await withPool((pool) => pool.query('select 1 as one'))
    expect(rows).toEqual([{ one: 1 }])
  })
})

describe('round trips', () => {
  test('the relay counts one per answered query, Sync or transaction statement, none for the handshake', async () => {
    const before = database.relayStats()
    await withPool(async (pool) => {
      await pool.query('select 1') // a simple Query
      await pool.query('select $1::int as n', [1]) // Parse/Bind/Describe/Execute/Sync
      await drizzle(pool).transaction(async (tx) => {
        await tx.execute(sql`select 1`) // begin, select, commit
      })
    })
    const after = database.relayStats()
    expect(after.roundTrips - before.roundTrips).toBe(5)
    expect(after.clients - before.clients).toBe(1)
  })
})

describe.skipIf(!onPostgres)('the pooling relay on PostgreSQL', () => {
  /** A neon Client session through the relay: connect, work, end (Terminate). */
  async function session<T>(
    work: (client: Client) => Promise<T>,
    applicationName?: string,
  ): Promise<T> {
    const client = await connect(applicationName)
    try {
      return await work(client)
    } finally {
      await client.end()
    }
  }

  async function connect(applicationName?: string) {
    const client = new Client({
      connectionString: database.databaseUrl,
      ...(applicationName ? { application_name: applicationName } : {}),
    })
    client.on('error', () => {})
    await client.connect()
    return client
  }

  async function backendPid(client: Client): Promise<number> {
    const { rows } = await client.query('select pg_backend_pid() as pid')
    return rows[0].pid
  }

  /** Backends of this test database whose application_name is `name`. */
  async function backendsNamed(name: string) {
    const rows = await database.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = current_database() and application_name = $1',
      [name],
    )
    return rows.map((row) => row.pid)
  }

  test('serves sequential clients from one backend', async () => {
    const before = database.relayStats()
    const pids = []
    for (let i = 0; i < 10; i++) pids.push(await session(backendPid))
    const after = database.relayStats()

    expect(new Set(pids).size).toBe(1)
    expect(after.clients - before.clients).toBe(10)
    // At most the first client needed a new backend; the rest got it back.
    expect(
      after.upstreamConnections - before.upstreamConnections,
    ).toBeLessThanOrEqual(1)
    expect(after.reused - before.reused).toBeGreaterThanOrEqual(9)
  })

  test('gives concurrent clients distinct backends, then reuses them', async () => {
    const first = await Promise.all(Array.from({ length: 5 }, () => connect()))
    const pids = await Promise.all(first.map(backendPid))
    expect(new Set(pids).size).toBe(5)
    await Promise.all(first.map((client) => client.end()))

    const before = database.relayStats()
    const again = await Promise.all(Array.from({ length: 5 }, () => connect()))
    const reusedPids = await Promise.all(again.map(backendPid))
    await Promise.all(again.map((client) => client.end()))
    expect(reusedPids.toSorted()).toEqual(pids.toSorted())
    expect(database.relayStats().upstreamConnections).toBe(
      before.upstreamConnections,
    )
  })

  test('keys backends by the startup parameters', async () => {
    const a = await session(backendPid, 'kulti-key-a')
    const b = await session(backendPid, 'kulti-key-b')
    expect(b).not.toBe(a)
    expect(await session(backendPid, 'kulti-key-a')).toBe(a)
    expect(await session(backendPid, 'kulti-key-b')).toBe(b)
  })

  test('settings a client changed do not reach the next client on its backend', async () => {
    const { pid, timezone } = await session(async (client) => {
      const { rows } = await client.query('show timezone')
      await client.query(`set timezone = 'Asia/Tokyo'`)
      await client.query(`set kulti.leak = 'secret'`)
      await client.query('set statement_timeout = 1')
      return { pid: await backendPid(client), timezone: rows[0].TimeZone }
    })
    const next = await session(async (client) => {
      const { rows } = await client.query(
        `select pg_backend_pid() as pid, current_setting('timezone') as timezone,
                current_setting('kulti.leak', true) as leak,
                current_setting('statement_timeout') as timeout`,
      )
      // A statement that the 1 ms timeout would have cancelled.
      await client.query('select pg_sleep(0.05)')
      return rows[0]
    })
    expect(next).toEqual({ pid, timezone, leak: '', timeout: '0' })
  })

  test('temporary tables, prepared statements, listeners and advisory locks do not reach the next client', async () => {
    const pid = await session(async (client) => {
      await client.query('create temp table kulti_leak (x int)')
      await client.query('prepare kulti_leak_sql as select 1')
      await client.query({ name: 'kulti_leak_named', text: 'select 2' })
      await client.query('listen kulti_leak_channel')
      await client.query('select pg_advisory_lock(4242)')
      return backendPid(client)
    })
    const next = await session(async (client) => {
      const { rows } = await client.query(
        `select pg_backend_pid() as pid,
                to_regclass('pg_temp.kulti_leak') as temp_table,
                (select count(*)::int from pg_prepared_statements) as prepared,
                (select count(*)::int from pg_listening_channels()) as listening,
                (select count(*)::int from pg_locks where locktype = 'advisory'
                   and pid = pg_backend_pid()) as advisory_locks`,
      )
      return rows[0]
    })
    expect(next).toEqual({
      pid,
      temp_table: null,
      prepared: 0,
      listening: 0,
      advisory_locks: 0,
    })
  })

  test('a transaction its client left open is rolled back, not handed on', async () => {
    const pid = await session(async (client) => {
      await client.query('begin')
      await client.query(
        `insert into users (username) values ('left-uncommitted')`,
      )
      return backendPid(client)
    })
    // The same for a transaction that had already failed.
    await session(async (client) => {
      await client.query('begin')
      await expect(client.query('select 1/0')).rejects.toThrow()
    })
    const next = await session(async (client) => {
      const { rows } = await client.query(
        `select pg_backend_pid() as pid,
                (select count(*)::int from users where username = 'left-uncommitted') as rows,
                now() = statement_timestamp() as fresh_transaction`,
      )
      return rows[0]
    })
    expect(next).toEqual({ pid, rows: 0, fresh_transaction: true })
    expect(await creditsOf('left-uncommitted')).toEqual([])
  })

  test('a client that vanishes mid-transaction commits nothing and leaves no lock behind', async () => {
    await createUser('vanished', 5)
    const client = await connect()
    await client.query('begin')
    await client.query(
      `update users set credits = 500 where username = 'vanished'`,
    )
    // Drop the WebSocket without a Terminate, like a killed isolate.
    const socket = (
      client as unknown as { connection: { stream: { ws: WebSocket } } }
    ).connection.stream.ws
    socket.terminate()

    // A direct connection can lock the row (well within 5 s) and finds it unchanged.
    const direct = new pg.Client({ connectionString: database.databaseUrl })
    await direct.connect()
    try {
      await direct.query('begin')
      await direct.query(`set local lock_timeout = '5s'`)
      const { rows } = await direct.query(
        `select credits from users where username = 'vanished' for update`,
      )
      await direct.query('rollback')
      expect(rows).toEqual([{ credits: 5 }])
    } finally {
      await direct.end()
    }
  })

  test('closes rather than reuses a backend whose client left with a query running', async () => {
    const client = await connect('kulti-running')
    const pid = await backendPid(client)
    client.query('select pg_sleep(0.3)').catch(() => {})
    await sleep(50)
    ;(
      client as unknown as { connection: { stream: { ws: WebSocket } } }
    ).connection.stream.ws.terminate()

    await until(async () => !(await backendsNamed('kulti-running')).length)
    expect(await session(backendPid, 'kulti-running')).not.toBe(pid)
  })

  test('a client that vanishes after an unsynced extended-protocol write commits nothing', async () => {
    const url = new URL(database.databaseUrl)
    const raw = new WebSocket(
      `ws://${database.wsProxy}/v2?address=${url.hostname}:${url.port || 5432}`,
    )
    const received: Buffer[] = []
    raw.on('message', (data: Buffer) => received.push(data))
    await new Promise((resolve, reject) =>
      raw.once('open', resolve).once('error', reject),
    )
    raw.send(
      startupMessage({ user: url.username, database: url.pathname.slice(1) }),
    )
    await until(() => backendMessages(received).includes('Z'))
    // Parse, Bind, Execute and Flush, but no Sync: the insert runs in an implicit transaction
    // that only a Sync would commit.
    raw.send(
      Buffer.concat([
        typedMessage(
          'P',
          `\0insert into users (username) values ('unsynced')\0\0\0`,
        ),
        typedMessage('B', '\0\0\0\0\0\0\0\0'),
        typedMessage('E', '\0\0\0\0\0'),
        typedMessage('H'),
      ]),
    )
    await until(() => backendMessages(received).includes('C'))
    raw.terminate()

    // Whatever the relay does with the backend, the next clients never see the row committed.
    for (let i = 0; i < 5; i++) {
      const { rows } = await withPool((pool) =>
        pool.query(
          `select count(*)::int as n from users where username = 'unsynced'`,
        ),
      )
      expect(rows).toEqual([{ n: 0 }])
      await sleep(50)
    }
    expect(await creditsOf('unsynced')).toEqual([])
  })

  test('keeps at most maxIdle idle backends, closes them when idle too long and when it stops', async () => {
    const relay = await startWsRelay({
      pool: { maxIdle: 2, idleTimeoutMs: 500 },
    })
    relayAddress = relay.address
    try {
      const clients = await Promise.all(
        Array.from({ length: 4 }, () => connect('kulti-bounded')),
      )
      await Promise.all(clients.map((client) => client.end()))
      expect(relay.stats()).toMatchObject({
        upstreamConnections: 4,
        clients: 4,
        idle: 2,
      })
      await until(
        async () => (await backendsNamed('kulti-bounded')).length === 2,
      )
      await until(
        async () => (await backendsNamed('kulti-bounded')).length === 0,
      )
      expect(relay.stats().idle).toBe(0)

      await session(backendPid, 'kulti-bounded')
      expect(await backendsNamed('kulti-bounded')).toHaveLength(1)
      await relay.close()
      await until(
        async () => (await backendsNamed('kulti-bounded')).length === 0,
      )
    } finally {
      relayAddress = database.wsProxy
      await relay.close()
    }
  })

  test('relays a client that opens with an SSLRequest without pooling it', async () => {
    const url = new URL(database.databaseUrl)
    const raw = new WebSocket(
      `ws://${database.wsProxy}/v2?address=${url.hostname}:${url.port || 5432}`,
    )
    const received: Buffer[] = []
    raw.on('message', (data: Buffer) => received.push(data))
    const closed = new Promise((resolve) => raw.once('close', resolve))
    await new Promise((resolve, reject) =>
      raw.once('open', resolve).once('error', reject),
    )
    const before = database.relayStats()

    const sslRequest = Buffer.alloc(8)
    sslRequest.writeInt32BE(8, 0)
    sslRequest.writeInt32BE(80877103, 4)
    raw.send(sslRequest)
    await until(() => received.length > 0)
    // The test server runs without TLS, so it declines; the client carries on in plain text.
    expect(Buffer.concat(received).toString('latin1')).toBe('N')
    received.length = 0
    raw.send(
      startupMessage({ user: url.username, database: url.pathname.slice(1) }),
    )
    await until(() => backendMessages(received).includes('Z'))
    raw.send(queryMessage('select 1'))
    await until(
      () =>
        backendMessages(received).filter((type) => type === 'Z').length === 2,
    )
    raw.send(terminateMessage())
    await withTimeout(closed, 5_000, 'the relay did not close after Terminate')

    const after = database.relayStats()
    expect(after.upstreamConnections - before.upstreamConnections).toBe(1)
    expect(after.reused - before.reused).toBe(0)
  })
})

describe('the relay', () => {
  test.each([
    '10.0.0.1:5432',
    'example.com:5432',
    '127.0.0.1.nip.io:5432',
    '169.254.169.254:80',
    '[::ffff:10.0.0.1]:5432',
    '0.0.0.0:5432',
    'localhost',
    '',
  ])('refuses the address %j with close code 1008', async (address) => {
    const { code, reason } = await closeOf(
      new WebSocket(
        `ws://${database.wsProxy}/v2?address=${encodeURIComponent(address)}`,
      ),
    )
    expect(code).toBe(1008)
    expect(reason).not.toBe('')
  })

  test('refuses a WebSocket opened by a web page from elsewhere', async () => {
    const url = new URL(database.databaseUrl)
    const { code } = await closeOf(
      new WebSocket(
        `ws://${database.wsProxy}/v2?address=${url.hostname}:${url.port}`,
        {
          origin: 'https://evil.example',
        },
      ),
    )
    expect(code).toBe(1008)
  })

  test('gives the driver an error, not a hang, for a remote host', async () => {
    const pool = new Pool({
      connectionString: 'postgresql://postgres@10.0.0.1:5432/postgres',
      connectionTimeoutMillis: 5_000,
    })
    pool.on('error', () => {})
    await expect(pool.query('select 1')).rejects.toThrow()
    await pool.end().catch(() => {})
  })
})

/** A plain `pg` connection, retried while the embedded server is still freeing its one slot. */
async function connectDirectly() {
  const deadline = Date.now() + 5_000
  for (;;) {
    const client = new pg.Client({ connectionString: database.databaseUrl })
    client.on('error', () => {})
    try {
      await client.connect()
      return client
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(20)
    }
  }
}

function closeOf(socket: WebSocket) {
  socket.on('error', () => {})
  return new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) =>
      resolve({ code, reason: reason.toString() }),
    ),
  )
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await sleep(5)
  }
}

/** The types of the complete backend messages in what was received so far. */
function backendMessages(chunks: Buffer[]) {
  const bytes = Buffer.concat(chunks)
  const types: string[] = []
  for (let offset = 0; offset + 5 <= bytes.length; ) {
    const length = bytes.readInt32BE(offset + 1)
    if (offset + 1 + length > bytes.length) break
    types.push(String.fromCharCode(bytes[offset]!))
    offset += 1 + length
  }
  return types
}
