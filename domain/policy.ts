import { addBusinessTime, localDate, type BusinessCalendar } from './calendar';
import { DEFAULT_DISPATCH_RADIUS_KM } from './dispatch';
import { parseDuration, type SlaDuration, type WallDuration } from './durations';
import { KPI_TARGETS, type KpiTargets } from './kpi';
import { DEFAULT_MONEY_RULES, type MoneyPolicyFields } from './money';
import { DEFAULT_RETURN_RULES, returnRules, type ReturnPolicyFields } from './returns';
import { PRIORITIES, type Priority } from './ticket';

/**
 * The SLA policy after parsing (see config/policy-file.ts for the file format). Plain JSON, so a
 * ticket workflow carries the snapshot it was opened under through every continue-as-new.
 */
export interface SlaPolicy extends ReturnPolicyFields, MoneyPolicyFields {
  readonly calendar: BusinessCalendar;
  /**
   * One duration for every priority, or one per priority (the policy file accepts both). A ticket
   * opened before per-priority first response carries the single form: `firstResponseFor` reads both.
   */
  readonly firstResponse: SlaDuration | Readonly<Record<Priority, SlaDuration>>;
  readonly escalationStep: SlaDuration;
  readonly plan: Readonly<Record<Priority, SlaDuration>>;
  readonly dispatchAccept: SlaDuration;
  readonly customerContact: SlaDuration;
  /** How long before the slot the reminder goes out: counted back on the wall clock. */
  readonly appointmentReminder: WallDuration;
  readonly resolution: Readonly<Record<Priority, SlaDuration>>;
  readonly criticalTemporaryPlan: SlaDuration;
  readonly callback: SlaDuration;
  readonly complaintFollowUp: SlaDuration;
  readonly directorPlan: SlaDuration;
  readonly reopenWindow: SlaDuration;
  /**
   * How long a ticket may wait for parts it could not get from stock, and how long a manager has to
   * approve a valuable or limited part. Optional: a ticket opened before they existed carries a
   * policy without them, and its clocks take the defaults (`partsClockDuration`).
   */
  readonly partsWait?: SlaDuration;
  readonly partsApproval?: SlaDuration;
  /** Whether the resolution clock waits while the ticket waits for parts (absent: it does not). */
  readonly partsWaitPausesResolution?: boolean;
  readonly warrantyMonths: number;
  readonly qcSampleRate: number;
  /** The summary report's KPI targets (`KPI_TARGETS` when absent: a ticket's older snapshot). */
  readonly targets?: KpiTargets;
  /**
   * The warning before a breach (超时预警): when this fraction of an escalating clock's length has
   * passed, the person holding the ticket is told once. Null: no warnings. Absent in snapshots of
   * tickets opened before warnings existed: none for them either.
   */
  readonly warnAt?: number | null;
  /**
   * How long the person responsible has to rectify what a failed QC review found (seed 000: 限期整改),
   * when the review sets no deadline of its own. Absent in snapshots from before: the default.
   */
  readonly rectification?: SlaDuration;
  /**
   * Automatic dispatch: engineers within `radiusKm` of a located ticket come first (seed 004).
   * Absent in snapshots of tickets opened before it: the default radius.
   */
  readonly dispatch?: { readonly radiusKm: number };
  /**
   * Whose tickets an agent acts on: `all` (the default), or `own` — only those it acknowledged or is
   * assigned (seed 002). Copied onto each ticket at opening (`TicketState.agentScope`).
   */
  readonly agentScope?: AgentScope;
}

export const AGENT_SCOPES = ['all', 'own'] as const;
export type AgentScope = (typeof AGENT_SCOPES)[number];

/** The customer's own numbers (SPEC section 1), as the policy file would spell them. */
export const DEFAULT_POLICY_DOCUMENT = {
  timeZone: 'Asia/Shanghai',
  calendar: {
    workingDays: ['mon', 'tue', 'wed', 'thu', 'fri'],
    workingHours: [['09:00', '18:00']],
    holidays: [],
    extraWorkingDays: [],
  },
  firstResponse: '10m',
  escalationStep: '30m',
  plan: { normal: '2h', urgent: '30m', critical: '10m' },
  dispatchAccept: '15m',
  customerContact: '30m',
  appointmentReminder: '1h',
  resolution: { normal: '5bd', urgent: '3bd', critical: '7bd' },
  criticalTemporaryPlan: '24h',
  callback: '24h',
  complaintFollowUp: '1h',
  directorPlan: '48h',
  reopenWindow: '30d',
  partsWait: '2bd',
  partsApproval: '4bh',
  partsWaitPausesResolution: false,
  ...DEFAULT_RETURN_RULES,
  ...DEFAULT_MONEY_RULES,
  warrantyMonths: 12,
  qcSampleRate: 0.3,
  targets: KPI_TARGETS,
  warnAt: 0.8,
  // Seed 000 sets no figure for 限期整改: seed 002's five working days for an ordinary problem.
  rectification: '5bd',
  dispatch: { radiusKm: DEFAULT_DISPATCH_RADIUS_KM },
  agentScope: 'all',
} as const;

/** The radius within which dispatch prefers an engineer: the policy's, or the default for an older one. */
export function dispatchRadiusKm(policy: SlaPolicy): number {
  return policy.dispatch?.radiusKm ?? DEFAULT_DISPATCH_RADIUS_KM;
}

/** The first-response duration for a priority, from either form of `firstResponse`. */
export function firstResponseFor(policy: SlaPolicy, priority: Priority): SlaDuration {
  const { firstResponse } = policy;
  return 'kind' in firstResponse ? firstResponse : firstResponse[priority];
}

/** A parts clock's duration: the policy's, or the default for a policy from before parts. */
export function partsClockDuration(policy: SlaPolicy, name: 'partsWait' | 'partsApproval'): SlaDuration {
  const duration = policy[name] ?? parseDuration(DEFAULT_POLICY_DOCUMENT[name]);
  if (!duration) throw new Error(`the default ${name} duration does not parse`);
  return duration;
}

/** How long a quote waits for the customer's consent: the policy's, or the default for an older one. */
export function quoteExpiryDuration(policy: SlaPolicy): SlaDuration {
  const duration = policy.quoteExpiry ?? parseDuration(DEFAULT_MONEY_RULES.quoteExpiry);
  if (!duration) throw new Error('the default quoteExpiry duration does not parse');
  return duration;
}

/** How long a manager has to decide a remedy above the policy's value (the default for an older policy). */
export function remedyApprovalDuration(policy: SlaPolicy): SlaDuration {
  const duration = policy.remedyApproval ?? parseDuration(DEFAULT_MONEY_RULES.remedyApproval);
  if (!duration) throw new Error('the default remedyApproval duration does not parse');
  return duration;
}

/** How long a consented quote's payment may wait after the work (the default for an older policy). */
export function paymentDuration(policy: SlaPolicy): SlaDuration {
  const duration = policy.payment ?? parseDuration(DEFAULT_MONEY_RULES.payment);
  if (!duration) throw new Error('the default payment duration does not parse');
  return duration;
}

/** How long a rectification may take when its review sets no deadline (the default for an older policy). */
export function rectificationDuration(policy: SlaPolicy): SlaDuration {
  const duration = policy.rectification ?? parseDuration(DEFAULT_POLICY_DOCUMENT.rectification);
  if (!duration) throw new Error('the default rectification duration does not parse');
  return duration;
}

/** The instant a clock started at `startMs` is due, on the wall clock or the business calendar. */
export function deadlineAfter(startMs: number, duration: SlaDuration, calendar: BusinessCalendar): number {
  if (duration.kind === 'wall') return startMs + duration.ms;
  return addBusinessTime(startMs, duration.amount, duration.unit, calendar);
}

/** The durations clocks count forward from a start, named by their field in the policy file. */
function policyDurations(policy: SlaPolicy): [string, SlaDuration][] {
  const byPriority = (field: 'plan' | 'resolution') =>
    PRIORITIES.map((priority): [string, SlaDuration] => [`${field}.${priority}`, policy[field][priority]]);
  const firstResponse = PRIORITIES.map((priority): [string, SlaDuration] => [
    `firstResponse.${priority}`,
    firstResponseFor(policy, priority),
  ]);
  return [
    ...firstResponse,
    ['escalationStep', policy.escalationStep],
    ...byPriority('plan'),
    ['dispatchAccept', policy.dispatchAccept],
    ['customerContact', policy.customerContact],
    ...byPriority('resolution'),
    ['criticalTemporaryPlan', policy.criticalTemporaryPlan],
    ['callback', policy.callback],
    ['complaintFollowUp', policy.complaintFollowUp],
    ['directorPlan', policy.directorPlan],
    ['reopenWindow', policy.reopenWindow],
    ['partsWait', partsClockDuration(policy, 'partsWait')],
    ['partsApproval', partsClockDuration(policy, 'partsApproval')],
    ['returnApproval', returnRules(policy).approval],
    ['returnShipBack', returnRules(policy).shipBack],
    ['refund', returnRules(policy).refund],
    ['quoteExpiry', quoteExpiryDuration(policy)],
    ['remedyApproval', remedyApprovalDuration(policy)],
    ['rectification', rectificationDuration(policy)],
    ['replacementShipment', returnRules(policy).replacementShipment],
    ['replacementConfirmation', returnRules(policy).replacementConfirmation],
    ['unitReturn', returnRules(policy).unitReturn],
    ['returnInspection', returnRules(policy).returnInspection],
    ['returnNegotiation', returnRules(policy).returnNegotiation],
    ['payment', paymentDuration(policy)],
  ];
}

/**
 * What start-up warns about when a business clock started at `nowMs` would run into a year the
 * calendar's statutory days do not reach (and the policy lists no holiday of its own for): its
 * deadline would count that year's holidays as working days. Undefined when every clock is covered.
 */
export function statutoryCoverageWarning(policy: SlaPolicy, nowMs: number): string | undefined {
  const { calendar } = policy;
  if (!calendar.statutory) return undefined;
  const latest = policyDurations(policy)
    .filter(([, duration]) => duration.kind === 'business')
    .map(([clock, duration]) => ({ clock, duration, dueMs: deadlineAfter(nowMs, duration, calendar) }))
    .sort((a, b) => b.dueMs - a.dueMs)[0];
  if (!latest) return undefined;
  const dueDate = localDate(latest.dueMs, calendar.timeZone);
  const year = Number(dueDate.slice(0, 4));
  const { region, throughYear } = calendar.statutory;
  if (year <= throughYear || calendar.holidays.some((date) => date.startsWith(`${year}-`))) return undefined;
  return (
    `the statutory holidays (${region}) known to chinese-days end with ${throughYear}, but ` +
    `${latest.clock} (${latest.duration.text}) started now is due ${dueDate}: ${year}'s holidays would ` +
    `count as working days; upgrade chinese-days, or list ${year}'s holidays and make-up days in the ` +
    `SLA policy file (calendar.holidays, calendar.extraWorkingDays)`
  );
}
