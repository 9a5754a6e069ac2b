import type { LinksFunction, MetaFunction } from '@remix-run/cloudflare'
import {
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useRouteError,
} from '@remix-run/react'
import type { ReactNode } from 'react'
import styles from './styles/app.css'
import { useNonce } from './utils/nonce'

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: styles },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
]

export const meta: MetaFunction = () => [
  { title: 'Kulti — build software live, together' },
  { name: 'description', content: 'Host live building sessions, share your screen, and learn from people shipping in the open.' },
]

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce()
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <SiteHeader />
        <main className="page">{children}</main>
        <SiteFooter />
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  )
}

export default function App() {
  return <Outlet />
}

function SiteHeader() {
  return (
    <header className="site-header">
      <Link to="/" className="brand" aria-label="Kulti home">
        <span className="brand-mark" aria-hidden="true">
          ◉
        </span>
        Kulti
      </Link>
      <nav aria-label="Main">
        <Link to="/login" className="button button-small">
          Sign in
        </Link>
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
  const notFound = isRouteErrorResponse(error) && error.status === 404
  return (
    <section className="error-page">
      <h1>{notFound ? 'Page not found' : 'Something went wrong'}</h1>
      <p>
        {notFound
          ? 'There is nothing at this address. Check the link, or head back to the start.'
          : 'We could not show this page. Please try again in a moment.'}
      </p>
      <Link to="/" className="button">
        Back to Kulti
      </Link>
    </section>
  )
}
