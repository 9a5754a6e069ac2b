import type {
  LinksFunction,
  LoaderFunctionArgs,
  MetaFunction,
} from '@remix-run/cloudflare'
import {
  Form,
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLocation,
  useRouteError,
  useRouteLoaderData,
} from '@remix-run/react'
import type { ReactNode } from 'react'
import styles from './styles/app.css'
import { useNonce } from './utils/nonce'
import { getUser } from './utils/session.server'

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: styles },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
]

export const meta: MetaFunction = () => [
  { title: 'Kulti — build software live, together' },
  {
    name: 'description',
    content:
      'Host live building sessions, share your screen, and learn from people shipping in the open.',
  },
]

/** Who is signed in, for the header: just enough to name them, never the phone number. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await getUser(context)
  return {
    user: user
      ? { username: user.username, displayName: user.displayName }
      : null,
  }
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce()
  // Layout also renders the error page, when the root loader may not have run.
  const data = useRouteLoaderData<typeof loader>('root')
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <SiteHeader user={data?.user ?? null} />
        <main className="page">{children}</main>
        <SiteFooter />
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  )
}

export default function App() {
  const { pathname, search } = useLocation()
  // Deleting an account signs the person out and lands here; the landing page itself knows nothing of it.
  const accountDeleted =
    pathname === '/' && new URLSearchParams(search).get('deleted') === '1'
  return (
    <>
      {accountDeleted ? (
        <p className="notice" role="status">
          Your account has been deleted. Thanks for building with us.
        </p>
      ) : null}
      <Outlet />
    </>
  )
}

type HeaderUser = { username: string | null; displayName: string | null }

function SiteHeader({ user }: { user: HeaderUser | null }) {
  return (
    <header className="site-header">
      <Link to="/" className="brand" aria-label="Kulti home">
        <span className="brand-mark" aria-hidden="true">
          ◉
        </span>
        Kulti
      </Link>
      <nav aria-label="Main" className="site-nav">
        {user ? (
          <>
            {user.username && user.displayName ? (
              <>
                <Link to="/dashboard" className="nav-link nav-user">
                  {user.displayName}
                </Link>
                <Link to="/credits" className="nav-link">
                  Credits
                </Link>
                <Link to="/recordings" className="nav-link">
                  Recordings
                </Link>
                <Link to="/settings" className="nav-link">
                  Settings
                </Link>
              </>
            ) : (
              // A new account has no name yet; everything else waits until it has one.
              <Link to="/welcome" className="nav-link">
                Finish signing up
              </Link>
            )}
            <Form method="post" action="/logout" className="inline-form">
              <button
                type="submit"
                className="button button-small button-ghost"
              >
                Sign out
              </button>
            </Form>
          </>
        ) : (
          <Link to="/login" className="button button-small">
            Sign in
          </Link>
        )}
      </nav>
    </header>
  )
}

function SiteFooter() {
  return (
    <footer className="site-footer">
      <p>Kulti — build software live, together.</p>
    </footer>
  )
}

export function ErrorBoundary() {
  const error = useRouteError()
  const { title, message } = describeError(error)
  return (
    <section className="error-page">
      <h1>{title}</h1>
      <p>{message}</p>
      <Link to="/" className="button">
        Back to Kulti
      </Link>
    </section>
  )
}

/** What to tell a person: our own 4xx messages are written for them; anything else stays vague. */
function describeError(error: unknown): { title: string; message: string } {
  if (isRouteErrorResponse(error) && error.status === 404) {
    return {
      title: 'Page not found',
      message:
        'There is nothing at this address. Check the link, or head back to the start.',
    }
  }
  if (
    isRouteErrorResponse(error) &&
    error.status < 500 &&
    typeof error.data === 'string' &&
    error.data
  ) {
    return { title: 'That did not work', message: error.data }
  }
  return {
    title: 'Something went wrong',
    message: 'We could not show this page. Please try again in a moment.',
  }
}
