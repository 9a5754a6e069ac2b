import { redirect } from '@remix-run/cloudflare'
import { formAction } from '../utils/forms.server'

/** Signing out is a POST (a GET could be triggered by any link or prefetch); a GET just goes home. */
export function loader() {
  return redirect('/')
}

export const action = formAction(
  async ({ context }) => {
    throw redirect('/', {
      headers: { 'Set-Cookie': await context.session.signOut() },
    })
  },
  (_form, errors) => ({ errors }),
)
