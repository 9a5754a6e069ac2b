import type { AppLoadContext, EntryContext } from '@remix-run/cloudflare'
import { isRouteErrorResponse, RemixServer } from '@remix-run/react'
import { isbot } from 'isbot'
import { renderToReadableStream } from 'react-dom/server'
import { now, recordTiming } from './services/telemetry.server'
import { isDomainError, isRateLimited } from './utils/errors'
import { NonceProvider } from './utils/nonce'

const RENDER_TIMEOUT_MS = 5_000

export default async function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  // The same nonce is in this response's Content-Security-Policy (workers/security-headers.ts);
  // every script React renders carries it, and nothing else may run.
  const nonce = loadContext.cspNonce
  const renderStarted = now()
  const controller = new AbortController()
  const timeout = setTimeout(() => controller.abort(), RENDER_TIMEOUT_MS)
  const body = await renderToReadableStream(
    <NonceProvider value={nonce}>
      <RemixServer
        context={remixContext}
        url={request.url}
        abortDelay={RENDER_TIMEOUT_MS}
        nonce={nonce}
      />
    </NonceProvider>,
    {
      nonce,
      signal: controller.signal,
      onError(error: unknown) {
        if (!controller.signal.aborted)
          loadContext.monitor.captureException(error, { phase: 'render' })
        responseStatusCode = 500
      },
    },
  )
  body.allReady.finally(() => clearTimeout(timeout))
  if (isbot(request.headers.get('user-agent') ?? '')) await body.allReady
  // Until the shell is ready (the headers go out then); streamed parts come after.
  recordTiming('render', now() - renderStarted)

  responseHeaders.set('Content-Type', 'text/html; charset=utf-8')
  return new Response(body, {
    headers: responseHeaders,
    status: responseStatusCode,
  })
}

/** Errors thrown in loaders and actions: reported once, except aborted navigations and 4xx answers. */
export function handleError(
  error: unknown,
  { request, context }: { request: Request; context: AppLoadContext },
) {
  if (request.signal.aborted) return
  // A 404 or a refused request is the caller's mistake, not ours: nothing to report.
  if (isRouteErrorResponse(error) && error.status < 500) return
  // A typed error here escaped the translators (a page loader threw it): Remix answers 500, so it
  // is our bug, whatever status it meant to have (ADR 010).
  const escaped =
    isDomainError(error) || isRateLimited(error)
      ? new Error(
          `${error.name} "${error.message}" escaped to Remix untranslated`,
          { cause: error },
        )
      : error
  context.monitor.captureException(escaped, {
    requestId: context.requestId,
    path: new URL(request.url).pathname,
  })
}
