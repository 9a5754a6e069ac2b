import type { CreditType } from '../../models/credits.server'

/** How each kind of ledger row reads to a person (the filter and the history). */
export const CREDIT_TYPE_LABELS = {
  settlement_viewer: 'Watching',
  settlement_presenter: 'Presenting',
  settlement_host: 'Hosting',
  bonus_welcome: 'Welcome bonus',
  milestone: 'Milestone',
  tip_sent: 'Tip sent',
  tip_received: 'Tip received',
  boost: 'Boost',
  admin_adjustment: 'Adjustment',
} as const satisfies Record<CreditType, string>

export type CreditTypeName = keyof typeof CREDIT_TYPE_LABELS

export const CREDIT_TYPE_NAMES = Object.keys(
  CREDIT_TYPE_LABELS,
) as CreditTypeName[]
