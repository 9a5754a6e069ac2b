import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/cloudflare'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { FormError } from '../components/ui/form-error'
import { SubmitButton } from '../components/ui/submit-button'
import {
  latestBackups,
  loadOperations,
  type BackupSummary,
} from '../models/operations.server'
import { retryWebhookEvent } from '../models/webhook-events.server'
import { webhookHandlers } from '../models/webhook-handlers.server'
import { checkDependencies } from '../services/health.server'
import { getDb } from '../utils/context.server'
import { DomainError, errorMessage } from '../utils/errors'
import {
  formAction,
  formHeaders,
  parseForm,
  RetryWebhookEventForm,
} from '../utils/forms.server'
import { requireOperator } from '../utils/session.server'

export const headers = formHeaders

export const meta: MetaFunction = () => [
  { title: 'Operations — Kulti' },
  { name: 'robots', content: 'noindex' },
]

/**
 * The operations page (docs/runbook.md starts here), for operators only: everyone else gets the
 * plain 404. One database query for the page (it is also the health check's database probe),
 * after the session's.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireOperator(request, context)
  const bindings = context.cloudflare.env
  const operations = loadOperations(getDb(context))
  const [health, backups, data] = await Promise.all([
    checkDependencies({
      database: () => operations,
      storage: bindings.BACKUPS,
      limiter: bindings.RATE_LIMITER,
      version: context.version,
    }),
    latestBackups(bindings.BACKUPS).then(
      (list) => ({ list, error: null as string | null }),
      (error: unknown) => ({
        list: [] as BackupSummary[],
        error: errorMessage(error),
      }),
    ),
    // A database that does not answer shows as such in the health table; the rest is empty.
    operations.catch(() => null),
  ])
  const retried = new URL(request.url).searchParams
  return {
    now: new Date().toISOString(),
    health,
    backups,
    operations: data,
    retried: retried.get('retried')
      ? {
          eventId: retried.get('retried') ?? '',
          applied: retried.get('applied') === '1',
        }
      : null,
  }
}

type ActionData = { errors: Record<string, string> }

/** Retry: one failed event, applied through the same path as the ten-minute retry job and webhooks:retry. */
export function action(args: ActionFunctionArgs) {
  return formAction(
    args,
    async ({ request, context }, form): Promise<ActionData> => {
      await requireOperator(request, context)
      if (form.get('intent') !== 'retry')
        throw new DomainError('unknown_intent', 'Unknown form intent.')
      const { id } = parseForm(RetryWebhookEventForm, {
        id: form.get('id'),
      })
      const outcome = await retryWebhookEvent(
        getDb(context),
        webhookHandlers,
        id,
      )
      if (!outcome)
        throw new DomainError(
          'not_failed',
          'That event is not waiting for a retry: it was applied meanwhile, or is being retried right now.',
          409,
        )
      const eventId = String(form.get('eventId') ?? '')
      throw redirect(
        `/ops?${new URLSearchParams({ retried: eventId || id, applied: outcome.applied ? '1' : '0' })}`,
      )
    },
    (_form, errors): ActionData => ({ errors }),
  )
}

const STATUS_LABEL = { ok: 'OK', degraded: 'Degraded', down: 'Down' } as const

export default function Operations() {
  const { now, health, backups, operations, retried } =
    useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const at = Date.parse(now)
  return (
    <div className="ops">
      <h1>Operations</h1>
      <p className="muted">
        Version {health.version}, as of {utc(now)}. Reload for fresh numbers.
        What to do about each section: docs/runbook.md.
      </p>
      {retried ? (
        <p className="notice" role="status">
          {retried.applied
            ? `Event ${retried.eventId} was applied.`
            : `Event ${retried.eventId} failed again: its reason is below.`}
        </p>
      ) : null}
      <FormError message={actionData?.errors.form ?? actionData?.errors.id} />

      <section aria-labelledby="ops-health">
        <h2 id="ops-health">Health: {STATUS_LABEL[health.status]}</h2>
        <div className="table-scroll">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Dependency</th>
                <th scope="col">Status</th>
                <th scope="col" className="numeric">
                  Answered in
                </th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(health.checks).map(([name, check]) => (
                <tr key={name}>
                  <th scope="row">{DEPENDENCY_LABEL[name] ?? name}</th>
                  <td>
                    {check.status === 'ok' ? 'OK' : `Down: ${check.error}`}
                  </td>
                  <td className="numeric">{check.latencyMs} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {operations ? (
        <>
          <section aria-labelledby="ops-webhooks">
            <h2 id="ops-webhooks">Webhook intake</h2>
            <p>
              Last event received:{' '}
              {operations.webhooks.lastReceivedAt
                ? `${utc(operations.webhooks.lastReceivedAt)} (${ago(at, operations.webhooks.lastReceivedAt)})`
                : 'none stored'}
              . Failed events: {operations.webhooks.failedCount}
              {operations.webhooks.failedCount >
              operations.webhooks.failed.length
                ? ` (the newest ${operations.webhooks.failed.length} shown)`
                : ''}
              .
            </p>
            {operations.webhooks.failed.length > 0 ? (
              <div className="table-scroll">
                <table
                  className="data-table"
                  aria-label="Failed webhook events"
                >
                  <thead>
                    <tr>
                      <th scope="col">Event</th>
                      <th scope="col">Type</th>
                      <th scope="col">Reason</th>
                      <th scope="col" className="numeric">
                        Attempts
                      </th>
                      <th scope="col">Last failed</th>
                      <th scope="col">Next try</th>
                      <th scope="col">
                        <span className="visually-hidden">Retry</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {operations.webhooks.failed.map((event) => (
                      <tr key={event.id}>
                        <th scope="row">
                          <code>{event.eventId}</code>
                        </th>
                        <td>{event.type}</td>
                        <td>{event.failureReason}</td>
                        <td className="numeric">{event.attempts}</td>
                        <td>{ago(at, event.failedAt)}</td>
                        <td>
                          {event.nextAttemptAt
                            ? utc(event.nextAttemptAt)
                            : 'none: attempts used up'}
                        </td>
                        <td>
                          <Form method="post">
                            <input type="hidden" name="id" value={event.id} />
                            <input
                              type="hidden"
                              name="eventId"
                              value={event.eventId}
                            />
                            <SubmitButton
                              intent="retry"
                              pendingLabel="Retrying…"
                              className="button button-small"
                            >
                              Retry
                              <span className="visually-hidden">
                                {' '}
                                {event.eventId}
                              </span>
                            </SubmitButton>
                          </Form>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
          </section>

          <section aria-labelledby="ops-jobs">
            <h2 id="ops-jobs">Scheduled jobs</h2>
            <div className="table-scroll">
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">Job</th>
                    <th scope="col">Runs</th>
                    <th scope="col">Last run</th>
                    <th scope="col">Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {operations.jobs.map((job) => (
                    <tr key={job.name}>
                      <th scope="row">{job.name}</th>
                      <td>
                        <code>{job.crons.join(', ')}</code>
                      </td>
                      <td>
                        {job.lastRun
                          ? `${utc(job.lastRun.startedAt)} (${ago(at, job.lastRun.startedAt)}, ${seconds(job.lastRun)})`
                          : 'never recorded'}
                      </td>
                      <td>
                        {job.lastRun
                          ? `${job.lastRun.ok ? 'OK' : 'Failed'}${job.lastRun.detail ? `: ${job.lastRun.detail}` : ''}`
                          : '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>

          <section aria-labelledby="ops-audit">
            <h2 id="ops-audit">Credits audit</h2>
            <p>
              {operations.creditsAudit
                ? `Last run ${utc(operations.creditsAudit.startedAt)} (${ago(at, operations.creditsAudit.startedAt)}): ${operations.creditsAudit.ok ? 'OK' : 'MISMATCHES'}: ${operations.creditsAudit.detail}`
                : 'No run recorded: `npm run credits:audit` records each run here.'}
            </p>
          </section>

          <section aria-labelledby="ops-recordings">
            <h2 id="ops-recordings">Recordings</h2>
            <p>
              Last {operations.recordings.days} days:{' '}
              {operations.recordings.failed} failed of{' '}
              {operations.recordings.total} started
              {operations.recordings.total > 0
                ? ` (${percent(operations.recordings.failed, operations.recordings.total)})`
                : ''}
              .
            </p>
          </section>

          <section aria-labelledby="ops-limits">
            <h2 id="ops-limits">Rate-limit refusals</h2>
            {operations.refusals.length === 0 ? (
              <p>None in the last 7 days.</p>
            ) : (
              <div className="table-scroll">
                <table className="data-table">
                  <thead>
                    <tr>
                      <th scope="col">Policy</th>
                      <th scope="col" className="numeric">
                        Last 24 hours
                      </th>
                      <th scope="col" className="numeric">
                        Last 7 days
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {operations.refusals.map((row) => (
                      <tr key={row.policy}>
                        <th scope="row">{row.policy}</th>
                        <td className="numeric">{row.lastDay}</td>
                        <td className="numeric">{row.lastWeek}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      ) : (
        <p className="form-error" role="alert">
          The database did not answer: nothing else on this page can be read.
        </p>
      )}

      <section aria-labelledby="ops-backups">
        <h2 id="ops-backups">Backups</h2>
        {backups.error ? (
          <p className="form-error">
            The backups bucket could not be listed: {backups.error}
          </p>
        ) : backups.list.length === 0 ? (
          <p>No backup in the bucket.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Backup</th>
                  <th scope="col">Taken</th>
                  <th scope="col" className="numeric">
                    Size
                  </th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {backups.list.map((backup) => (
                  <tr key={backup.id}>
                    <th scope="row">
                      <code>{backup.id}</code>
                    </th>
                    <td>{ago(at, backup.createdAt)}</td>
                    <td className="numeric">{size(backup.bytes)}</td>
                    <td>
                      {backup.complete
                        ? 'complete'
                        : 'incomplete (no manifest)'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  )
}

const DEPENDENCY_LABEL: Record<string, string> = {
  database: 'Database',
  storage: 'Storage (R2)',
  rateLimiter: 'Rate limiter',
}

// Formatted from the loader's clock, in UTC, so the server's and the browser's renders agree.
function utc(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
}

function ago(now: number, iso: string): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 90) return `${seconds} s ago`
  const minutes = Math.round(seconds / 60)
  if (minutes < 90) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.round(hours / 24)} days ago`
}

function seconds(run: { startedAt: string; finishedAt: string }): string {
  const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt)
  return `took ${(ms / 1000).toFixed(1)} s`
}

function percent(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)}%`
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}
