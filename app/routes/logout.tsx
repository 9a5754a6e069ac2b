import { redirect, type ActionFunctionArgs } from '@remix-run/cloudflare'
import { signOut } from '../utils/session.server'

/** Signing out is a POST (a GET could be triggered by any link or prefetch); a GET just goes home. */
export function loader() {
  return redirect('/')
}

export async function action({ request, context }: ActionFunctionArgs) {
  return redirect('/', {
    headers: { 'Set-Cookie': await signOut(request, context) },
  })
}
