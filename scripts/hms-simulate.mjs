// `npm run hms:simulate -- <room code> [--viewers 30] [--minutes 5]`: brings pretend viewers into a
// session on the fake 100ms that `npm run dev` runs, so viewer counts, the HLS switch and watch-time
// credits can be tried without 30 browsers. Each viewer joins through the fake's control API
// (/_fake/…), which sends the peer.join.success webhooks real 100ms would; after --minutes they
// leave (peer.leave.success). Ctrl-C makes them leave first. The fake is at http://127.0.0.1:8790
// unless HMS_API_BASE (or --base) says otherwise.
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'

const USAGE =
  'usage: npm run hms:simulate -- <room code> [--viewers 30] [--minutes 5] [--base http://127.0.0.1:8790]'
const CONCURRENCY = 5
const TIMEOUT_MS = 15_000

/** @type {{ values: { viewers?: string, minutes?: string, base?: string, help?: boolean }, positionals: string[] }} */
let parsed
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      viewers: { type: 'string' },
      minutes: { type: 'string' },
      base: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
} catch (error) {
  console.error(`${error instanceof Error ? error.message : error}\n${USAGE}`)
  process.exit(2)
}
const { values, positionals } = parsed
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const [roomCode] = positionals
const viewers = Number(values.viewers ?? 30)
const minutes = Number(values.minutes ?? 5)
if (!roomCode || !Number.isInteger(viewers) || viewers < 1 || !(minutes >= 0)) {
  console.error(USAGE)
  process.exit(2)
}
const base = (
  values.base ??
  process.env.HMS_API_BASE ??
  'http://127.0.0.1:8790'
).replace(/\/+$/, '')
// Our rooms are named after the room code in lower case (VIBE-2K4F → vibe-2k4f).
const roomName = roomCode.toLowerCase()

/** @type {Array<{ peerId: string, userId: string, name: string }>} */
const joined = []
let stopping = false
/** @type {() => void} */
let wake = () => {}

process.on('SIGINT', () => {
  if (stopping) {
    console.log('\nLeaving without waiting.')
    process.exit(130)
  }
  stopping = true
  console.log(
    '\nCtrl-C: the viewers leave first (Ctrl-C again to quit at once).',
  )
  wake()
})

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function control(method, path, body) {
  let response
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch (error) {
    throw new Error(
      `nothing answers at ${base} (${error instanceof Error ? error.message : error}). ` +
        'Is `npm run dev` running? Its banner shows where the fake 100ms is; set HMS_API_BASE to that URL.',
    )
  }
  const text = await response.text()
  /** @type {any} */
  let json
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(
      `${base} answered ${method} ${path} with something that is not the fake 100ms (${response.status})`,
    )
  }
  return { status: response.status, json }
}

async function findRoom() {
  const { status, json } = await control(
    'GET',
    `/_fake/rooms/${encodeURIComponent(roomName)}`,
  )
  if (status === 200) return json
  if (status !== 404 || typeof json?.message !== 'string') {
    throw new Error(
      `${base} does not look like the fake 100ms (GET /_fake/rooms answered ${status})`,
    )
  }
  const state = await control('GET', '/_fake/state')
  /** @type {string[]} */
  const names = (state.json?.rooms ?? []).map(
    (/** @type {{ name: string, enabled: boolean }} */ room) =>
      `${room.name}${room.enabled ? '' : ' (ended)'}`,
  )
  throw new Error(
    `the fake 100ms at ${base} has no room "${roomName}". ` +
      (names.length
        ? `Rooms it knows: ${names.join(', ')}`
        : 'It has no rooms yet: start a session in the app first.'),
  )
}

/** @param {number} index */
async function joinOne(index) {
  const viewer = {
    userId: randomUUID(),
    name: `Simulated viewer ${index + 1}`,
  }
  const { status, json } = await control(
    'POST',
    `/_fake/rooms/${encodeURIComponent(roomName)}/peers`,
    { ...viewer, role: 'viewer' },
  )
  if (status !== 201)
    throw new Error(
      `viewer ${index + 1} could not join: ${json?.message ?? status}`,
    )
  joined.push({ ...viewer, peerId: json.peerId })
}

async function leaveAll() {
  let left = 0
  let gone = 0
  const queue = [...joined]
  joined.length = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let peer = queue.shift(); peer; peer = queue.shift()) {
        const { status } = await control(
          'DELETE',
          `/_fake/rooms/${encodeURIComponent(roomName)}/peers/${peer.peerId}`,
        )
        // 404: already gone (the host ended the session, which removes everyone).
        if (status === 200) left++
        else gone++
      }
    }),
  )
  console.log(
    `${left} viewer${left === 1 ? '' : 's'} left${gone ? ` (${gone} had already gone: the session ended)` : ''}.`,
  )
}

/** @param {number} ms */
function pause(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    wake = () => {
      clearTimeout(timer)
      resolve(undefined)
    }
  })
}

async function main() {
  const room = await findRoom()
  if (!room.enabled) throw new Error(`room ${roomName} has ended (disabled)`)
  console.log(
    `Room ${room.name} (${room.id}) on ${base}: ${room.session ? `${room.session.peers.length} in the session now` : 'no one there yet'}.`,
  )
  console.log(`Joining ${viewers} viewer${viewers === 1 ? '' : 's'}…`)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, viewers) }, async () => {
      while (!stopping && next < viewers) {
        const index = next++
        await joinOne(index)
        if (joined.length % 10 === 0 || joined.length === viewers)
          console.log(`  ${joined.length}/${viewers} joined`)
      }
    }),
  )
  if (!stopping && minutes > 0) {
    const until = new Date(Date.now() + minutes * 60_000)
    console.log(
      `${joined.length} viewers are watching until ${until.toLocaleTimeString()} (${minutes} min). Ctrl-C makes them leave now.`,
    )
    await pause(minutes * 60_000)
  }
  console.log(`Leaving…`)
  await leaveAll()
}

try {
  await main()
} catch (error) {
  console.error(
    `hms:simulate: ${error instanceof Error ? error.message : error}`,
  )
  if (joined.length) {
    console.error('Making the viewers who joined leave…')
    await leaveAll().catch(() => {})
  }
  process.exit(1)
}
