import { jsonError } from '../utils/http.server'

// Any /api/* path no other route matches: a JSON 404 in the error shape, whatever the method,
// instead of the HTML page a browser would get.
const notFound = async ({ request }: { request: Request }) =>
  jsonError(
    404,
    'not_found',
    `There is no ${new URL(request.url).pathname} endpoint. See the HTTP surface in the docs.`,
  )

export const loader = notFound
export const action = notFound
