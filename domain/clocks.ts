import { addBusinessMs, businessMsBetween } from './calendar';
import { parseDuration, type SlaDuration } from './durations';
import {
  deadlineAfter,
  firstResponseFor,
  partsClockDuration,
  paymentDuration,
  quoteExpiryDuration,
  rectificationDuration,
  remedyApprovalDuration,
  type SlaPolicy,
} from './policy';
import { returnRules } from './returns';
import {
  ESCALATION_ROLES,
  type Actor,
  type ClockName,
  type ClockState,
  type EscalationLevel,
  type EscalationSource,
  type EscalationState,
  type TicketChange,
  type TicketState,
} from './ticket';
import { holderOf } from './reach';
import { appendEvent, appendNotification } from './timeline';

/**
 * The ticket's clocks and the escalation chain. Every clock is a deadline the workflow sleeps towards
 * with a durable timer; what happens when one runs out is decided here (escalate, re-dispatch, remind,
 * archive), so the workflow only waits for `nextDeadline` and calls the lifecycle's `fireDue`.
 */
export type DueAction =
  | {
      readonly kind: 'escalate';
      readonly level: Exclude<EscalationLevel, 0>;
      readonly reason: string;
      /** A missed phone callback falls back to a survey by SMS. */
      readonly smsSurvey?: boolean;
    }
  | { readonly kind: 'redispatch' }
  | { readonly kind: 'remind' }
  | { readonly kind: 'archive' }
  /** Half the customer's ship-back window has passed without a shipment: remind the customer. */
  | { readonly kind: 'remindShipBack' }
  /** The ship-back window passed without the product: the return is cancelled. */
  | { readonly kind: 'lapseReturn' }
  /** The customer did not answer the quote: the ticket closes as declined, nothing charged. */
  | { readonly kind: 'expireQuote' };

interface ClockRule {
  /** The name of the durable timer in Temporal UI, before its duration: "first-response SLA 10m". */
  readonly label: string;
  readonly onDue: DueAction;
  /** Only the resolution clock waits while the ticket waits on the customer (SPEC 1.12). */
  readonly pausesOnHold: boolean;
}

export const CLOCK_RULES: Readonly<Record<ClockName, ClockRule>> = {
  firstResponse: {
    label: 'first-response SLA',
    onDue: { kind: 'escalate', level: 1, reason: 'first_response_missed' },
    pausesOnHold: false,
  },
  plan: {
    label: 'plan',
    onDue: { kind: 'escalate', level: 1, reason: 'plan_missed' },
    pausesOnHold: false,
  },
  criticalTemporaryPlan: {
    label: 'critical temporary plan',
    onDue: { kind: 'escalate', level: 2, reason: 'critical_temporary_plan_missed' },
    pausesOnHold: false,
  },
  dispatchAccept: { label: 'dispatch acceptance', onDue: { kind: 'redispatch' }, pausesOnHold: false },
  customerContact: {
    label: 'customer contact',
    onDue: { kind: 'escalate', level: 1, reason: 'customer_contact_missed' },
    pausesOnHold: false,
  },
  appointmentReminder: { label: 'appointment reminder', onDue: { kind: 'remind' }, pausesOnHold: false },
  resolution: {
    label: 'resolution',
    onDue: { kind: 'escalate', level: 1, reason: 'resolution_missed' },
    pausesOnHold: true,
  },
  callback: {
    label: 'callback',
    onDue: { kind: 'escalate', level: 1, reason: 'callback_missed', smsSurvey: true },
    pausesOnHold: false,
  },
  complaintFollowUp: {
    label: 'complaint follow-up',
    onDue: { kind: 'escalate', level: 2, reason: 'complaint_follow_up_missed' },
    pausesOnHold: false,
  },
  directorPlan: {
    label: 'director plan',
    onDue: { kind: 'escalate', level: 3, reason: 'director_plan_missed' },
    pausesOnHold: false,
  },
  reopenWindow: { label: 'reopen window', onDue: { kind: 'archive' }, pausesOnHold: false },
  partsWait: {
    label: 'waiting for parts',
    onDue: { kind: 'escalate', level: 1, reason: 'parts_wait_missed' },
    pausesOnHold: false,
  },
  // Approving parts is the manager's: a missed approval goes to the manager's level.
  partsApproval: {
    label: 'parts approval',
    onDue: { kind: 'escalate', level: 2, reason: 'parts_approval_missed' },
    pausesOnHold: false,
  },
  // A plan not carried out by its own deadline (seed 003: 明确责任人和处理期限).
  planDeadline: {
    label: 'plan deadline',
    onDue: { kind: 'escalate', level: 1, reason: 'plan_deadline_missed' },
    pausesOnHold: false,
  },
  // The manager decides a return or exchange: a missed decision is the manager's level too.
  returnApproval: {
    label: 'return approval',
    onDue: { kind: 'escalate', level: 2, reason: 'return_approval_missed' },
    pausesOnHold: false,
  },
  shipBack: { label: 'ship-back window', onDue: { kind: 'lapseReturn' }, pausesOnHold: false },
  shipBackReminder: { label: 'ship-back reminder', onDue: { kind: 'remindShipBack' }, pausesOnHold: false },
  // Finance refunds; a refund not made in time goes to the manager.
  quoteExpiry: { label: 'quote expiry', onDue: { kind: 'expireQuote' }, pausesOnHold: false },
  // A manager decides a remedy above the policy's value: a missed decision is the manager's level.
  remedyApproval: {
    label: 'remedy approval',
    onDue: { kind: 'escalate', level: 2, reason: 'remedy_approval_missed' },
    pausesOnHold: false,
  },
  // A failed QC review's rectification not done by its deadline (seed 000: 限期整改) goes to the supervisor.
  rectification: {
    label: 'rectification',
    onDue: { kind: 'escalate', level: 1, reason: 'rectification_missed' },
    pausesOnHold: false,
  },
  refund: {
    label: 'refund',
    onDue: { kind: 'escalate', level: 2, reason: 'refund_missed' },
    pausesOnHold: false,
  },
  // The waits of an exchange, a return and a payment: each missed one goes to the supervisor, once.
  replacementShipment: {
    label: 'replacement shipment',
    onDue: { kind: 'escalate', level: 1, reason: 'replacement_shipment_missed' },
    pausesOnHold: false,
  },
  replacementConfirmation: {
    label: 'replacement confirmation',
    onDue: { kind: 'escalate', level: 1, reason: 'replacement_confirmation_missed' },
    pausesOnHold: false,
  },
  unitReturn: {
    label: 'unit return',
    onDue: { kind: 'escalate', level: 1, reason: 'unit_return_missed' },
    pausesOnHold: false,
  },
  returnInspection: {
    label: 'return inspection',
    onDue: { kind: 'escalate', level: 1, reason: 'return_inspection_missed' },
    pausesOnHold: false,
  },
  returnNegotiation: {
    label: 'return negotiation',
    onDue: { kind: 'escalate', level: 1, reason: 'return_negotiation_missed' },
    pausesOnHold: false,
  },
  payment: {
    label: 'payment',
    onDue: { kind: 'escalate', level: 1, reason: 'payment_missed' },
    pausesOnHold: false,
  },
};

/** The policy duration of a clock for this ticket now (first response, plan and resolution depend on its priority). */
export function clockDuration(name: ClockName, state: TicketState, policy: SlaPolicy): SlaDuration {
  const priority = state.intake.priority;
  switch (name) {
    case 'firstResponse':
      return firstResponseFor(policy, priority);
    case 'plan':
      return policy.plan[priority];
    case 'criticalTemporaryPlan':
      return policy.criticalTemporaryPlan;
    case 'dispatchAccept':
      return policy.dispatchAccept;
    case 'customerContact':
      return policy.customerContact;
    case 'appointmentReminder':
      return policy.appointmentReminder;
    case 'resolution':
      return policy.resolution[priority];
    case 'callback':
      return policy.callback;
    case 'complaintFollowUp':
      return policy.complaintFollowUp;
    case 'directorPlan':
      return policy.directorPlan;
    case 'reopenWindow':
      return policy.reopenWindow;
    case 'partsWait':
    case 'partsApproval':
      return partsClockDuration(policy, name);
    case 'planDeadline':
      throw new Error('a plan deadline counts towards the plan’s own instant: start it with its dueAtMs');
    case 'returnApproval':
      return returnRules(policy).approval;
    case 'shipBack':
    case 'shipBackReminder':
      return returnRules(policy).shipBack;
    case 'refund':
    case 'replacementShipment':
    case 'replacementConfirmation':
    case 'unitReturn':
    case 'returnInspection':
    case 'returnNegotiation':
      return returnRules(policy)[name];
    case 'payment':
      return paymentDuration(policy);
    case 'quoteExpiry':
      return quoteExpiryDuration(policy);
    case 'remedyApproval':
      return remedyApprovalDuration(policy);
    case 'rectification':
      return rectificationDuration(policy);
  }
}

/** The wall duration from now to an instant a clock counts towards, in whole seconds. */
function durationUntil(nowMs: number, dueAtMs: number): SlaDuration {
  const seconds = Math.max(1, Math.ceil((dueAtMs - nowMs) / 1000));
  return { kind: 'wall', text: `${seconds}s`, ms: seconds * 1000 };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Clocks that escalate when they run out warn before they do; the others (reminders, windows) not. */
export function clockWarns(name: ClockName): boolean {
  return CLOCK_RULES[name].onDue.kind === 'escalate';
}

/**
 * The instant `fraction` of a clock's length has passed, counted from its start in the clock's own
 * measure (wall time, or working time on the calendar).
 */
export function warningInstant(
  startMs: number,
  dueMs: number,
  duration: SlaDuration,
  fraction: number,
  policy: SlaPolicy,
): number {
  const length = elapsedOn(duration, startMs, dueMs, policy);
  return extendOn(duration, startMs, Math.round(length * fraction), policy);
}

/**
 * Starts (or restarts, as the next cycle) a clock. `dueAtMs` overrides the policy duration for clocks
 * that count towards an instant rather than from one: the appointment reminder, a plan's deadline, a
 * rectification deadline the review set.
 */
export function startClock(
  state: TicketState,
  name: ClockName,
  nowMs: number,
  policy: SlaPolicy,
  dueAtMs?: number,
): ClockState {
  const duration =
    (name === 'planDeadline' || name === 'rectification') && dueAtMs !== undefined
      ? durationUntil(nowMs, dueAtMs)
      : clockDuration(name, state, policy);
  const dueMs = dueAtMs ?? deadlineAfter(nowMs, duration, policy.calendar);
  const clock: ClockState = {
    cycle: (state.clocks[name]?.cycle ?? 0) + 1,
    duration: duration.text,
    startedAt: iso(nowMs),
    dueAt: iso(dueMs),
    metAt: null,
    breachedAt: null,
    pausedAt: null,
  };
  if (typeof policy.warnAt === 'number' && clockWarns(name)) {
    clock.warnAt = iso(warningInstant(nowMs, dueMs, duration, policy.warnAt, policy));
  }
  state.clocks[name] = clock;
  return clock;
}

export function isRunning(clock: ClockState | undefined): clock is ClockState {
  return clock !== undefined && clock.metAt === null && clock.breachedAt === null;
}

export function isClockRunning(state: TicketState, name: ClockName): boolean {
  return isRunning(state.clocks[name]);
}

/** Stops a running clock as met (late or not: a breach already fired stays recorded). */
export function meetClock(state: TicketState, name: ClockName, nowMs: number): boolean {
  const clock = state.clocks[name];
  if (!clock || clock.metAt !== null) return false;
  clock.metAt = iso(nowMs);
  clock.pausedAt = null;
  return true;
}

/** Time between two instants in the clock's own measure: wall time, or working time on the calendar. */
function elapsedOn(duration: SlaDuration, fromMs: number, toMs: number, policy: SlaPolicy): number {
  if (duration.kind === 'wall') return Math.max(0, toMs - fromMs);
  return businessMsBetween(fromMs, toMs, policy.calendar);
}

function extendOn(duration: SlaDuration, fromMs: number, ms: number, policy: SlaPolicy): number {
  return duration.kind === 'wall' ? fromMs + ms : addBusinessMs(fromMs, ms, policy.calendar);
}

function durationOf(clock: ClockState): SlaDuration {
  const duration = parseDuration(clock.duration);
  if (!duration) throw new Error(`clock duration "${clock.duration}" is not a duration`);
  return duration;
}

/** Stops a running clock counting now; one already paused keeps the instant it paused at. */
export function pauseClock(state: TicketState, name: ClockName, nowMs: number): void {
  const clock = state.clocks[name];
  if (isRunning(clock) && clock.pausedAt === null) clock.pausedAt = iso(nowMs);
}

/** Hold: the clocks that pause stop counting now. */
export function pauseClocks(state: TicketState, nowMs: number): void {
  for (const [name] of clockEntries(state)) {
    if (CLOCK_RULES[name].pausesOnHold) pauseClock(state, name, nowMs);
  }
}

/** A paused clock continues with the time that was left when it paused. */
export function resumeClock(state: TicketState, name: ClockName, nowMs: number, policy: SlaPolicy): void {
  const clock = state.clocks[name];
  if (!isRunning(clock) || clock.pausedAt === null) return;
  const duration = durationOf(clock);
  const pausedAtMs = Date.parse(clock.pausedAt);
  const remaining = elapsedOn(duration, pausedAtMs, Date.parse(clock.dueAt), policy);
  clock.dueAt = iso(extendOn(duration, nowMs, remaining, policy));
  // A warning not yet sent keeps the time it had left too.
  if (clock.warnAt !== undefined && clock.warnedAt === undefined) {
    const toWarning = elapsedOn(duration, pausedAtMs, Date.parse(clock.warnAt), policy);
    clock.warnAt = iso(extendOn(duration, nowMs, toWarning, policy));
  }
  clock.pausedAt = null;
}

/** Resume: paused clocks continue, but those still held for another reason (`keepPaused`). */
export function resumeClocks(
  state: TicketState,
  nowMs: number,
  policy: SlaPolicy,
  keepPaused: readonly ClockName[] = [],
): void {
  for (const [name] of clockEntries(state)) {
    if (!keepPaused.includes(name)) resumeClock(state, name, nowMs, policy);
  }
}

/**
 * A priority change moves the running priority-dependent clocks at once: each keeps its start and
 * the time already spent on hold, and takes the new priority's duration.
 */
export function reschedulePriorityClocks(state: TicketState, policy: SlaPolicy): string[] {
  const moved: string[] = [];
  for (const name of ['firstResponse', 'plan', 'resolution'] as const) {
    const clock = state.clocks[name];
    if (!isRunning(clock)) continue;
    const oldDuration = durationOf(clock);
    const startMs = Date.parse(clock.startedAt);
    // Time already lost on hold: how much later the old deadline is than a fresh one from the start.
    const plainOldDue = deadlineAfter(startMs, oldDuration, policy.calendar);
    const heldMs = elapsedOn(oldDuration, plainOldDue, Date.parse(clock.dueAt), policy);
    const duration = clockDuration(name, state, policy);
    const plainNewDue = deadlineAfter(startMs, duration, policy.calendar);
    clock.duration = duration.text;
    clock.dueAt = iso(extendOn(duration, plainNewDue, heldMs, policy));
    // A warning not yet sent moves with the deadline: the same fraction of the new length.
    if (clock.warnAt !== undefined && clock.warnedAt === undefined && typeof policy.warnAt === 'number') {
      const plainWarning = warningInstant(startMs, plainNewDue, duration, policy.warnAt, policy);
      clock.warnAt = iso(extendOn(duration, plainWarning, heldMs, policy));
    }
    moved.push(name);
  }
  return moved;
}

function clockEntries(state: TicketState): [ClockName, ClockState][] {
  return (Object.entries(state.clocks) as [ClockName, ClockState | undefined][]).filter(
    (entry): entry is [ClockName, ClockState] => entry[1] !== undefined,
  );
}

export interface Deadline {
  readonly dueAtMs: number;
  /** The timer's name in Temporal UI. */
  readonly summary: string;
}

/** Escalations that still climb: open, below the top of the chain, on a ticket not closed. */
function climbingEscalations(state: TicketState): EscalationState[] {
  if (state.status === 'closed' || state.status === 'cancelled') return [];
  return state.escalations.filter((escalation) => isOpenEscalation(escalation) && escalation.stepDueAt);
}

export function isOpenEscalation(escalation: EscalationState): boolean {
  return escalation.acknowledgedAt === null && escalation.supersededBy === null;
}

/** Whether the workflow watches warnings before a breach (it does since the `clock-warnings` patch). */
export interface DeadlineOptions {
  readonly warnings: boolean;
}

/** A running clock whose warning is still to be sent, and when. */
function pendingWarningMs(clock: ClockState): number | undefined {
  if (!isRunning(clock) || clock.pausedAt !== null) return undefined;
  if (clock.warnAt === undefined || clock.warnedAt !== undefined) return undefined;
  return Date.parse(clock.warnAt);
}

/** Whether any running clock still owes its warning before a breach. */
export function hasPendingWarning(state: TicketState): boolean {
  return clockEntries(state).some(([, clock]) => pendingWarningMs(clock) !== undefined);
}

/**
 * The nearest instant something is due: a running clock, its warning before a breach, or an
 * escalation step.
 */
export function nextDeadline(
  state: TicketState,
  options: DeadlineOptions = { warnings: true },
): Deadline | undefined {
  let next: Deadline | undefined;
  const consider = (dueAtMs: number, summary: string) => {
    if (!next || dueAtMs < next.dueAtMs) next = { dueAtMs, summary };
  };
  for (const [name, clock] of clockEntries(state)) {
    if (isRunning(clock) && clock.pausedAt === null) {
      consider(Date.parse(clock.dueAt), `${CLOCK_RULES[name].label} ${clock.duration}`);
    }
    const warningMs = options.warnings ? pendingWarningMs(clock) : undefined;
    if (warningMs !== undefined) consider(warningMs, `${CLOCK_RULES[name].label} ${clock.duration} warning`);
  }
  for (const escalation of climbingEscalations(state)) {
    consider(
      Date.parse(escalation.stepDueAt ?? ''),
      `escalation step L${escalation.level}→L${escalation.level + 1}`,
    );
  }
  return next;
}

/** The clocks whose deadline has passed, oldest deadline first. */
export function dueClocks(state: TicketState, nowMs: number): [ClockName, ClockState][] {
  return clockEntries(state)
    .filter(([, clock]) => isRunning(clock) && clock.pausedAt === null && Date.parse(clock.dueAt) <= nowMs)
    .sort(([, a], [, b]) => Date.parse(a.dueAt) - Date.parse(b.dueAt));
}

/**
 * The clocks whose warning is due now, oldest first; a clock already past its deadline is left to
 * escalate instead (a warning then would say nothing the escalation does not).
 */
export function dueWarnings(state: TicketState, nowMs: number): [ClockName, ClockState][] {
  return clockEntries(state)
    .filter(([, clock]) => {
      const warningMs = pendingWarningMs(clock);
      return warningMs !== undefined && warningMs <= nowMs && Date.parse(clock.dueAt) > nowMs;
    })
    .sort(([, a], [, b]) => Date.parse(a.warnAt ?? '') - Date.parse(b.warnAt ?? ''));
}

interface EscalationRequest {
  readonly id: string;
  readonly source: EscalationSource;
  readonly level: Exclude<EscalationLevel, 0>;
  readonly reason: string;
  readonly missedDeadline: string;
  /** A climb keeps the person of the escalation it climbs from. */
  readonly climbsFrom?: EscalationState;
}

/** Whose work a missed clock was: a second complaint is about the service, held like resolution. */
function responsibleFor(state: TicketState, source: EscalationSource): EscalationState['responsible'] {
  const holder = holderOf(state, source === 'secondComplaint' ? 'resolution' : source);
  return holder.personId === null ? undefined : { id: holder.personId, role: holder.role };
}

/**
 * Records one escalation and starts its escalation step. The person responsible (seed 002: 责任人)
 * is told at once; the level's notice goes to their superior of that level (the relay walks the
 * staff directory), or the level's role when no person is known or no superior is on file.
 */
export function escalate(
  state: TicketState,
  request: EscalationRequest,
  nowMs: number,
  policy: SlaPolicy,
  change: TicketChange,
): EscalationState {
  const escalation: EscalationState = {
    id: request.id,
    ticketNumber: state.number,
    clock: request.source,
    level: request.level,
    reason: request.reason,
    missedDeadline: request.missedDeadline,
    firedAt: iso(nowMs),
    stepDueAt: request.level < 3 ? iso(deadlineAfter(nowMs, policy.escalationStep, policy.calendar)) : null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    supersededBy: null,
  };
  const responsible = !state.namesPeople
    ? undefined
    : request.climbsFrom
      ? request.climbsFrom.responsible
      : responsibleFor(state, request.source);
  if (responsible) escalation.responsible = responsible;
  state.escalations.push(escalation);
  state.escalationLevel = Math.max(state.escalationLevel, request.level) as EscalationLevel;
  const {
    stepDueAt,
    acknowledgedAt,
    acknowledgedBy,
    supersededBy,
    responsible: _named,
    ...record
  } = escalation;
  change.escalations.push(record);
  appendEvent(state, change, 'escalated', nowMs, null, {
    escalationId: escalation.id,
    clock: request.source,
    level: request.level,
    reason: request.reason,
    missedDeadline: request.missedDeadline,
    ...(stepDueAt ? { climbsAt: stepDueAt } : {}),
    ...(responsible ? { responsibleId: responsible.id } : {}),
  });
  const data = { escalationId: escalation.id, level: request.level, reason: request.reason };
  if (responsible && !request.climbsFrom) {
    appendNotification(state, change, {
      kind: 'escalation',
      recipientRole: responsible.role,
      channel: 'internal',
      nowMs,
      data: { ...data, personId: responsible.id },
    });
  }
  appendNotification(state, change, {
    kind: 'escalation',
    recipientRole: ESCALATION_ROLES[request.level],
    channel: 'internal',
    nowMs,
    data: { ...data, ...(responsible ? { superiorOf: responsible.id } : {}) },
  });
  return escalation;
}

/** Escalations nobody acknowledged within the escalation step climb one level (SPEC 1.11). */
export function climbDueEscalations(
  state: TicketState,
  nowMs: number,
  policy: SlaPolicy,
  change: TicketChange,
): number {
  let climbed = 0;
  for (const escalation of climbingEscalations(state)) {
    if (Date.parse(escalation.stepDueAt ?? '') > nowMs) continue;
    const level = (escalation.level + 1) as Exclude<EscalationLevel, 0>;
    const baseId = escalation.id.replace(/:L\d$/, '');
    const next = escalate(
      state,
      {
        id: `${baseId}:L${level}`,
        source: escalation.clock,
        level,
        reason: 'escalation_not_acknowledged',
        missedDeadline: escalation.stepDueAt ?? iso(nowMs),
        climbsFrom: escalation,
      },
      nowMs,
      policy,
      change,
    );
    escalation.supersededBy = next.id;
    change.escalationUpdates.push({ id: escalation.id, supersededBy: next.id });
    climbed += 1;
  }
  return climbed;
}

/** `escalation-ack`: someone took the open escalations up (or the one named); they stop climbing. */
export function acknowledgeEscalations(
  state: TicketState,
  escalationId: string | undefined,
  actor: Actor,
  nowMs: number,
  change: TicketChange,
): string[] {
  const acknowledged: string[] = [];
  for (const escalation of state.escalations) {
    if (!isOpenEscalation(escalation) || (escalationId && escalation.id !== escalationId)) continue;
    escalation.acknowledgedAt = iso(nowMs);
    escalation.acknowledgedBy = actor.id;
    change.escalationUpdates.push({
      id: escalation.id,
      acknowledgedAt: escalation.acknowledgedAt,
      acknowledgedBy: actor.id,
    });
    acknowledged.push(escalation.id);
  }
  return acknowledged;
}

/** Whether any service-level clock (one that escalates) was missed. */
export function isSlaBreached(state: TicketState): boolean {
  return clockEntries(state).some(
    ([name, clock]) => clock.breachedAt !== null && CLOCK_RULES[name].onDue.kind === 'escalate',
  );
}
