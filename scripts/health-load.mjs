#!/usr/bin/env node
// Fires N requests at /api/health, C at a time, and counts the answers: the check that the health
// endpoint holds under load (SPEC §7) instead of reporting the service down.
//   node scripts/health-load.mjs [url] [requests] [concurrency]
//   node scripts/health-load.mjs http://127.0.0.1:8787/api/health 400 100
const [
  url = 'http://127.0.0.1:8787/api/health',
  total = '400',
  concurrency = '100',
] = process.argv.slice(2)

const outcomes = new Map()
let next = 0
const started = Date.now()
async function worker() {
  while (next < Number(total)) {
    next += 1
    let key
    try {
      const response = await fetch(url)
      const body = await response.json().catch(() => ({}))
      key = `${response.status} ${body.status ?? '?'}`
    } catch (error) {
      key = `error ${error instanceof Error ? error.message : error}`
    }
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker))
console.log(
  `${total} requests to ${url}, ${concurrency} at a time, in ${Date.now() - started} ms:`,
)
for (const [key, count] of [...outcomes].sort())
  console.log(`  ${key}: ${count}`)
process.exitCode = outcomes.get('200 ok') === Number(total) ? 0 : 1
