import { Client, Pool, neonConfig } from '@neondatabase/serverless'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/neon-serverless'
import pg from 'pg'
import ws, { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { queryMessage, startupMessage } from '../support/pg-wire'
import { createTestDatabase, type TestDatabase } from '../support/database'

// The neon driver, in Node, through the local relay: the path every Worker takes in development
// and tests. Runs on embedded PGlite (serialising relay) and on TEST_DATABASE_URL (plain relay).

let database: TestDatabase

beforeAll(async () => {
  database = await createTestDatabase()
  neonConfig.webSocketConstructor = ws
  neonConfig.wsProxy = (host, port) =>
    `${database.wsProxy}/v2?address=${host}:${port}`
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

async function until(condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
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
