import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
} from '@remix-run/cloudflare'
import { formAction } from '../utils/forms.server'

// Every address no other route serves: the plain 404 of the root's error boundary, rendered after
// the root loader like any page's 404, so a signed-in person keeps their navigation on it. It also
// makes a page that answers 404 to someone (/ops, to everyone but operators) look exactly like an
// address that does not exist; without this route, unmatched addresses skip the root loader and
// would look different (ADR 019).

const notFound = () => new Response('Not Found', { status: 404 })

export function loader(_args: LoaderFunctionArgs): never {
  throw notFound()
}

export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async () => {
      throw notFound()
    },
    () => ({}),
  )
}

export default function NotFound() {
  return null
}
