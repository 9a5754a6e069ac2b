// The rules of the dependency audit (`npm run check`, scripts/audit.mjs): which advisories fail
// the check, how a reviewed one is accepted, and what happens when the advisory service cannot be
// reached. Pure functions over npm's JSON report and the allowlist file, so they can be tested.
import { createHash } from 'node:crypto'

/** Severities that fail the check (npm audit --audit-level=high). */
export const FAILING = new Set(['high', 'critical'])

/**
 * @typedef {{ id: string, package?: string, reason: string, expires: string }} AcceptedAdvisory
 * @typedef {{ reason: string, expires: string, productionDependencies: string }} OfflineAcceptance
 * @typedef {{ advisories?: AcceptedAdvisory[], offline?: OfflineAcceptance | null }} Allowlist
 * @typedef {{ id: string, source: string, package: string, severity: string, title: string, url: string }} Advisory
 */

/**
 * A fingerprint of the production dependency tree as package-lock.json pins it (every package
 * that is not dev-only, with its version). A dev-only change keeps it; anything shipped changes it.
 * @param {{ packages?: Record<string, { version?: string, dev?: boolean, devOptional?: boolean }> }} lock
 */
export function productionDependencies(lock) {
  const lines = Object.entries(lock.packages ?? {})
    .filter(([path, entry]) => path && !entry.dev && !entry.devOptional)
    .map(([path, entry]) => `${path}@${entry.version ?? ''}`)
    .sort()
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

/** `GHSA-…` from an advisory URL, else npm's numeric source id. @param {any} via */
function advisoryId(via) {
  return (
    /GHSA(?:-[0-9a-z]{4}){3}/i.exec(String(via.url ?? ''))?.[0] ??
    String(via.source)
  )
}

/**
 * The high and critical advisories of `npm audit --json` (each once, however many paths lead to it).
 * @param {any} report
 * @returns {Advisory[]}
 */
export function failingAdvisories(report) {
  /** @type {Map<string, Advisory>} */
  const found = new Map()
  for (const vulnerability of Object.values(report.vulnerabilities ?? {})) {
    for (const via of /** @type {any} */ (vulnerability).via ?? []) {
      if (typeof via !== 'object' || !FAILING.has(via.severity)) continue
      const id = advisoryId(via)
      found.set(id, {
        id,
        source: String(via.source),
        package: String(via.name ?? via.dependency ?? ''),
        severity: via.severity,
        title: String(via.title ?? ''),
        url: String(via.url ?? ''),
      })
    }
  }
  return [...found.values()].sort((a, b) => a.id.localeCompare(b.id))
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** Problems with the allowlist file itself. @param {Allowlist} allowlist */
export function allowlistProblems(allowlist) {
  const problems = []
  for (const [index, entry] of (allowlist.advisories ?? []).entries()) {
    const name = `advisories[${index}]`
    if (!entry.id) problems.push(`${name} has no id (a GHSA id)`)
    if (!entry.reason?.trim())
      problems.push(`${name} (${entry.id}) says no reason`)
    if (!DAY.test(entry.expires ?? ''))
      problems.push(`${name} (${entry.id}) needs an expiry date (YYYY-MM-DD)`)
  }
  const offline = allowlist.offline
  if (offline) {
    if (!offline.reason?.trim()) problems.push('offline says no reason')
    if (!DAY.test(offline.expires ?? ''))
      problems.push('offline needs an expiry date (YYYY-MM-DD)')
    if (!/^[0-9a-f]{64}$/.test(offline.productionDependencies ?? ''))
      problems.push(
        'offline needs productionDependencies (the fingerprint the audit prints)',
      )
  }
  return problems
}

/** @param {string} expires @param {string} today */
const expired = (expires, today) => expires < today

/**
 * Judges an audit. `report` is npm's JSON, or null when the advisory service could not answer
 * (`unreachable` says why). Returns the problems (the check fails when there is one) and notes.
 * @param {{
 *   report: any,
 *   unreachable?: string,
 *   allowlist: Allowlist,
 *   fingerprint: string,
 *   today: string,
 * }} input
 */
export function judgeAudit({
  report,
  unreachable,
  allowlist,
  fingerprint,
  today,
}) {
  const problems = allowlistProblems(allowlist)
  const notes = []
  if (!report) {
    const offline = allowlist.offline
    const why = `npm audit could not get advisories from the registry (${unreachable ?? 'no report'}): the production dependencies were NOT checked`
    if (!offline) {
      problems.push(
        `${why}. Run the check where the registry's advisory service answers, or accept this dependency set offline for a while in audit-allowlist.json (docs/security.md, "Dependencies"; fingerprint ${fingerprint}).`,
      )
    } else if (offline.productionDependencies !== fingerprint) {
      problems.push(
        `${why}. The offline acceptance in audit-allowlist.json is for other production dependencies (${offline.productionDependencies.slice(0, 12)}…, now ${fingerprint}): audit them where the registry answers.`,
      )
    } else if (expired(offline.expires, today)) {
      problems.push(
        `${why}. The offline acceptance in audit-allowlist.json expired on ${offline.expires}: audit them where the registry answers.`,
      )
    } else {
      notes.push(
        `${why}; accepted offline until ${offline.expires} for exactly these dependencies (${fingerprint.slice(0, 12)}…): ${offline.reason}`,
      )
    }
    return { problems, notes }
  }
  const accepted = new Map(
    (allowlist.advisories ?? []).map((entry) => [entry.id, entry]),
  )
  const found = failingAdvisories(report)
  for (const advisory of found) {
    const entry = accepted.get(advisory.id) ?? accepted.get(advisory.source)
    const line = `${advisory.severity} ${advisory.id} in ${advisory.package}: ${advisory.title} (${advisory.url})`
    if (!entry) problems.push(line)
    else if (expired(entry.expires, today))
      problems.push(
        `${line}: accepted until ${entry.expires}, which has passed; review it again`,
      )
    else notes.push(`accepted until ${entry.expires}: ${line}: ${entry.reason}`)
  }
  const present = new Set(found.flatMap((a) => [a.id, a.source]))
  for (const entry of allowlist.advisories ?? [])
    if (!present.has(entry.id))
      notes.push(
        `${entry.id} is accepted in audit-allowlist.json but no longer reported: remove it`,
      )
  return { problems, notes }
}
