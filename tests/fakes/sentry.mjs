// A stand-in for Sentry's ingest, as a real HTTP server on loopback: it accepts envelopes the way
// sentry.io does (POST /api/<project>/envelope/), keeps every one in memory, and shows them, so
// tests can assert exactly what production would send and a developer running `npm run dev` can
// read it. Its DSN is `http://<key>@127.0.0.1:<port>/<project>`. Plain JS with JSDoc types:
// `npm run dev` (plain node) and the tests (TypeScript) import the same file.
//
//   POST /api/:project/envelope/   an envelope (what the SDK sends), answered {"id": …}
//   GET  /                         a page listing what arrived, newest first
//   GET  /_fake/envelopes          every envelope, parsed: {receivedAt, header, items: [{header, payload}]}
//   POST /_fake/reset              forgets everything
//
// Standalone: `node tests/fakes/sentry.mjs --port 8791` prints its DSN.
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'

/** The port `npm run dev` gives the fake. */
export const FAKE_SENTRY_PORT = 8791

const PUBLIC_KEY = 'kultidevpublickey'
const PROJECT_ID = '1'
const MAX_ENVELOPE_BYTES = 1024 * 1024

/**
 * @typedef {object} EnvelopeItem
 * @property {Record<string, unknown>} header
 * @property {any} payload parsed JSON, or the raw text when it is not JSON
 */

/**
 * @typedef {object} Envelope
 * @property {string} receivedAt
 * @property {string} path
 * @property {Record<string, unknown>} header
 * @property {EnvelopeItem[]} items
 * @property {string} raw the body exactly as received
 */

/**
 * @typedef {object} FakeSentry
 * @property {string} url
 * @property {number} port
 * @property {string} dsn
 * @property {() => Envelope[]} envelopes since the last reset
 * @property {() => EnvelopeItem[]} items every item of those envelopes, in arrival order
 * @property {() => Envelope[]} history every envelope since the fake started, resets or not
 * @property {() => void} reset
 * @property {() => Promise<void>} close
 */

/**
 * Splits an envelope: a header line, then per item a header line and a payload (of `length`
 * bytes when the header says so, else up to the next newline).
 * @param {Buffer} body
 * @returns {{ header: Record<string, unknown>, items: EnvelopeItem[] }}
 */
export function parseEnvelope(body) {
  let offset = 0
  const nextLine = () => {
    const end = body.indexOf(0x0a, offset)
    const line = body.subarray(offset, end === -1 ? body.length : end)
    offset = end === -1 ? body.length : end + 1
    return line.toString('utf8')
  }
  const header = JSON.parse(nextLine() || '{}')
  /** @type {EnvelopeItem[]} */
  const items = []
  while (offset < body.length) {
    const line = nextLine()
    if (!line.trim()) continue
    const itemHeader = JSON.parse(line)
    let text
    if (typeof itemHeader.length === 'number') {
      text = body.subarray(offset, offset + itemHeader.length).toString('utf8')
      offset += itemHeader.length
      if (body[offset] === 0x0a) offset += 1
    } else {
      text = nextLine()
    }
    let payload
    try {
      payload = JSON.parse(text)
    } catch {
      payload = text
    }
    items.push({ header: itemHeader, payload })
  }
  return { header, items }
}

/**
 * @param {{ host?: string, port?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<FakeSentry>}
 */
export async function startFakeSentry({
  host = '127.0.0.1',
  port = 0,
  log = () => {},
} = {}) {
  /** @type {Envelope[]} */
  let envelopes = []
  /** @type {Envelope[]} */
  const history = []

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`)
    try {
      if (
        req.method === 'POST' &&
        /^\/api\/[^/]+\/envelope\/?$/.test(url.pathname)
      ) {
        const body = await readBody(req)
        const { header, items } = parseEnvelope(body)
        const envelope = {
          receivedAt: new Date().toISOString(),
          path: url.pathname,
          header,
          items,
          raw: body.toString('utf8'),
        }
        envelopes.push(envelope)
        history.push(envelope)
        for (const item of items) log(describe(item))
        return send(
          res,
          200,
          'application/json',
          JSON.stringify({ id: header.event_id ?? null }),
        )
      }
      if (req.method === 'GET' && url.pathname === '/_fake/envelopes')
        return send(res, 200, 'application/json', JSON.stringify(envelopes))
      if (req.method === 'POST' && url.pathname === '/_fake/reset') {
        envelopes = []
        return send(res, 204, 'text/plain', '')
      }
      if (req.method === 'GET' && url.pathname === '/')
        return send(res, 200, 'text/html; charset=utf-8', page(envelopes))
      return send(res, 404, 'text/plain', 'not found')
    } catch (error) {
      return send(
        res,
        400,
        'text/plain',
        `bad envelope: ${error instanceof Error ? error.message : error}`,
      )
    }
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve(undefined))
  })
  const address = /** @type {import('node:net').AddressInfo} */ (
    server.address()
  )
  const base = `http://${host}:${address.port}`
  return {
    url: base,
    port: address.port,
    dsn: `http://${PUBLIC_KEY}@${host}:${address.port}/${PROJECT_ID}`,
    envelopes: () => [...envelopes],
    items: () => envelopes.flatMap((envelope) => envelope.items),
    history: () => [...history],
    reset: () => {
      envelopes = []
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve(undefined))
      }),
  }
}

/** @param {import('node:http').IncomingMessage} req @returns {Promise<Buffer>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_ENVELOPE_BYTES) {
        reject(new Error('envelope too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} type
 * @param {string} body
 */
function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' })
  res.end(body)
}

/** One line about an item: what a developer scanning the list needs. @param {EnvelopeItem} item */
export function describe(item) {
  const p = item.payload ?? {}
  if (item.header.type === 'check_in')
    return `check-in ${p.monitor_slug}: ${p.status}${p.duration === undefined ? '' : ` (${Number(p.duration).toFixed(1)} s)`}`
  if (item.header.type === 'event') {
    const exception = p.exception?.values?.[0]
    const title = exception
      ? `${exception.type}: ${exception.value}`
      : (p.message?.formatted ??
        p.message ??
        p.logentry?.message ??
        '(no message)')
    return `${p.level ?? 'error'} [${p.tags?.source ?? '?'}] ${title}`
  }
  return String(item.header.type)
}

const escape = (/** @type {unknown} */ text) =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** @param {Envelope[]} envelopes */
function page(envelopes) {
  const rows = envelopes
    .flatMap((envelope) => envelope.items.map((item) => ({ envelope, item })))
    .reverse()
    .map(({ envelope, item }) => {
      const p = item.payload ?? {}
      return `<li><details><summary><time>${escape(envelope.receivedAt)}</time> ${escape(describe(item))}
        <small>release ${escape(p.release ?? envelope.header.trace?.release ?? '?')} · request ${escape(p.tags?.request_id ?? '-')}</small></summary>
        <pre>${escape(JSON.stringify(p, null, 2))}</pre></details></li>`
    })
    .join('\n')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake Sentry — Kulti</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}li{margin:.4rem 0}small{color:#666;margin-left:.5rem}pre{background:#f4f4f4;padding:.5rem;overflow:auto}</style></head>
<body><h1>Fake Sentry</h1><p>What the Workers would have sent to Sentry (${envelopes.length} envelopes), newest first. Reload to refresh;
<code>POST /_fake/reset</code> clears it.</p><ul>${rows || '<li>Nothing yet.</li>'}</ul></body></html>`
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--port')
  const fake = await startFakeSentry({
    port: at === -1 ? FAKE_SENTRY_PORT : Number(process.argv[at + 1]),
    log: (line) => console.log(line),
  })
  console.log(`fake Sentry on ${fake.url}\nSENTRY_DSN=${fake.dsn}`)
}
