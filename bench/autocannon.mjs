// One autocannon run in its own process (bench/run.ts): the database relay lives in the bench's
// process, and load generated there would compete with it for the event loop. Reads its options as
// JSON from argv[2], prints autocannon's result as JSON. A body's `[<id>]` becomes a fresh UUID per
// request, set up before the request is built (autocannon's own `-I` replaces it after Content-Length
// was computed, so the length no longer matches).
import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'

const {
  url,
  connections,
  seconds,
  headers = {},
  body,
} = JSON.parse(process.argv[2])
const result = await autocannon({
  url,
  connections,
  duration: seconds,
  headers,
  ...(body === undefined
    ? {}
    : {
        method: 'POST',
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              body: body.replaceAll('[<id>]', randomUUID()),
            }),
          },
        ],
      }),
})
process.stdout.write(JSON.stringify(result))
