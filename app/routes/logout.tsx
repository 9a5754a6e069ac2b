import { redirect, type ActionFunctionArgs } from '@remix-run/cloudflare'
import { formAction } from '../utils/forms.server'

/** Signing out is a POST (a GET could be triggered by any link or prefetch); a GET just goes home. */
export function loader() {
  return redirect('/')
}

export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ context }) => {
      throw redirect('/', {
        headers: { 'Set-Cookie': await context.session.signOut() },
      })
    },
    (_form, errors) => ({ errors }),
  )
}
