import * as z from 'zod'
import { DomainError } from './errors'
import { readJson } from './request.server'

/**
 * Content-Security-Policy violation reports (`POST /api/csp-report`): the two shapes browsers send,
 * reduced to what an operator needs and scrubbed of anything a URL can carry (query strings hold
 * tokens and codes; a room code in a path is an invitation).
 */

/** What is kept of one violation. */
export interface CspViolation {
  /** The page, as origin and path (room codes, ids and long tokens replaced). */
  documentUrl: string
  /** What was blocked: a scrubbed URL, or a keyword (`inline`, `eval`, `data`, `blob`…). */
  blocked: string
  /** The directive that blocked it (`script-src-elem`, `media-src`…). */
  directive: string
  disposition: 'enforce' | 'report'
  /** The script that caused it, scrubbed like the page, with its position. */
  sourceFile: string | null
  line: number | null
  column: number | null
}

/** A report posts at most this much; a batch of the Reporting API holds a few reports. */
export const MAX_CSP_REPORT_BYTES = 16 * 1024
/** At most this many violations of one request are kept. */
export const MAX_VIOLATIONS_PER_REPORT = 10

export const CSP_REPORT_CONTENT_TYPE =
  /^application\/(csp-report|reports\+json)\b/i

const text = z.string().max(4096)
const position = z.number().int().nonnegative().max(10_000_000)

// `report-uri`: one violation, hyphenated names (Firefox, Safari; Chromium without report-to).
const LegacyReport = z.object({
  'csp-report': z.object({
    'document-uri': text,
    'blocked-uri': text.optional(),
    'effective-directive': text.optional(),
    'violated-directive': text.optional(),
    disposition: text.optional(),
    'source-file': text.optional(),
    'line-number': position.optional(),
    'column-number': position.optional(),
  }),
})

// `report-to` (the Reporting API): a batch of reports of several types, camelCase bodies.
const ReportingApiBatch = z
  .array(
    z.object({
      type: text,
      body: z.record(z.string(), z.unknown()).optional(),
    }),
  )
  .max(100)

const ReportingApiViolation = z.object({
  documentURL: text,
  blockedURL: text.optional(),
  effectiveDirective: text.optional(),
  disposition: text.optional(),
  sourceFile: text.optional(),
  lineNumber: position.optional(),
  columnNumber: position.optional(),
})

/**
 * Reads and validates a report body (415 for another type, 413 over the limit, 400 when it is not a
 * report) and returns its violations, scrubbed. Reports of other types in a batch are ignored.
 */
export async function readCspReport(request: Request): Promise<CspViolation[]> {
  const { value } = await readJson(request, {
    maxBytes: MAX_CSP_REPORT_BYTES,
    contentType: CSP_REPORT_CONTENT_TYPE,
    typeMessage:
      'Send a CSP report as application/csp-report or application/reports+json.',
  })
  const legacy = LegacyReport.safeParse(value)
  if (legacy.success) {
    const report = legacy.data['csp-report']
    return [
      violation({
        documentUrl: report['document-uri'],
        blocked: report['blocked-uri'],
        directive:
          report['effective-directive'] ??
          report['violated-directive']?.split(' ')[0],
        disposition: report.disposition,
        sourceFile: report['source-file'],
        line: report['line-number'],
        column: report['column-number'],
      }),
    ]
  }
  const batch = ReportingApiBatch.safeParse(value)
  if (!batch.success) throw notAReport()
  return batch.data
    .filter((report) => report.type === 'csp-violation')
    .slice(0, MAX_VIOLATIONS_PER_REPORT)
    .map((report) => {
      const parsed = ReportingApiViolation.safeParse(report.body)
      if (!parsed.success) throw notAReport()
      const body = parsed.data
      return violation({
        documentUrl: body.documentURL,
        blocked: body.blockedURL,
        directive: body.effectiveDirective,
        disposition: body.disposition,
        sourceFile: body.sourceFile,
        line: body.lineNumber,
        column: body.columnNumber,
      })
    })
}

function notAReport() {
  return new DomainError(
    'invalid_report',
    'The body is not a CSP violation report.',
  )
}

function violation(raw: {
  documentUrl: string
  blocked?: string
  directive?: string
  disposition?: string
  sourceFile?: string
  line?: number
  column?: number
}): CspViolation {
  return {
    documentUrl: scrubReportUrl(raw.documentUrl),
    blocked: scrubBlocked(raw.blocked ?? ''),
    directive: /^[a-z-]{1,40}$/.test(raw.directive ?? '')
      ? raw.directive!
      : 'unknown',
    disposition: raw.disposition === 'report' ? 'report' : 'enforce',
    sourceFile: raw.sourceFile ? scrubReportUrl(raw.sourceFile) : null,
    line: raw.line ?? null,
    column: raw.column ?? null,
  }
}

const ROOM_CODE = /^[A-Za-z]{4,6}-[A-Za-z0-9]{4}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A reported URL as origin and path only: no credentials, query or fragment, and path segments that
 * identify something (a room code, an id, a long token) replaced, so a log line invites nobody into a
 * private session. Anything that is not an http(s) URL is reduced to its scheme.
 */
export function scrubReportUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'invalid-url'
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return parsed.protocol.replace(/:$/, '')
  const path = parsed.pathname
    .split('/')
    .map((segment) => {
      if (ROOM_CODE.test(segment)) return ':roomCode'
      if (UUID.test(segment)) return ':id'
      if (segment.length > 24) return ':token'
      return segment
    })
    .join('/')
  return `${parsed.origin}${path}`.slice(0, 300)
}

/** `inline`, `eval`, `data`… stay as they are; a URL is scrubbed. */
function scrubBlocked(blocked: string): string {
  if (/^[a-z-]{1,30}$/.test(blocked)) return blocked
  return scrubReportUrl(blocked)
}

/** The key under which a violation is logged once (same page, same block, same directive). */
export function violationKey(violation: CspViolation): string {
  return [
    violation.documentUrl,
    violation.directive,
    violation.blocked,
    violation.sourceFile,
    violation.line,
    violation.column,
  ].join('|')
}

// Per isolate: a page that violates on every view, or a browser that re-sends, costs one line a
// minute per isolate, not one per report.
const REPEAT_WINDOW_MS = 60_000
const MAX_REMEMBERED = 500
const seen = new Map<string, number>()

/** True the first time a violation arrives (again after a minute); false for a repeat. */
export function firstSighting(violation: CspViolation, now = Date.now()) {
  const key = violationKey(violation)
  const last = seen.get(key)
  if (last !== undefined && now - last < REPEAT_WINDOW_MS) return false
  seen.delete(key)
  seen.set(key, now)
  // Oldest first: a Map keeps insertion order.
  while (seen.size > MAX_REMEMBERED) seen.delete(seen.keys().next().value!)
  return true
}

/** What monitoring receives for one violation: an error named for what was blocked, on which page. */
export function violationError(violation: CspViolation): Error {
  const page = new URL(
    violation.documentUrl.startsWith('http')
      ? violation.documentUrl
      : 'http://invalid/',
  ).pathname
  const error = new Error(
    `CSP violation: ${violation.directive} blocked ${violation.blocked} on ${page}`,
  )
  error.name = 'CspViolation'
  // Raised here, not thrown by the page: a stack of this module would only mislead.
  error.stack = `${error.name}: ${error.message}`
  return error
}
