import { localDate } from './calendar';
import {
  acknowledgeEscalations,
  CLOCK_RULES,
  climbDueEscalations,
  dueClocks,
  dueWarnings,
  escalate,
  isClockRunning,
  isOpenEscalation,
  meetClock,
  pauseClock,
  pauseClocks,
  reschedulePriorityClocks,
  resumeClock,
  resumeClocks,
  startClock,
  type DeadlineOptions,
} from './clocks';
import {
  classifyAnalysis,
  dissatisfactionRefusal,
  handlingCostRefusal,
  orderRectification,
  rectificationOrderRefusal,
  rectifiedRefusal,
  recordHandlingCost,
  recordRectification,
  reviewScore,
} from './complaint-analysis';
import type { DispatchNeeds } from './dispatch';
import { PARTS_REQUEST_STATUSES, type PartsEvent, type PlanReleaseEvent } from './parts';
import { dispatchRadiusKm, type SlaPolicy } from './policy';
import { ACTION_NAMES, type ActionInput, type ActionName } from './action-inputs';
import { qualityDecision, scoreBand } from './quality';
import { holderOf, personData } from './reach';
import {
  decideRemedyRefusal,
  offerRemedyRefusal,
  recordRemedyDecision,
  recordRemedyOffer,
} from './remedy-actions';
import {
  expireQuote,
  invoiceRefusal,
  needsConsent,
  paymentAmountRefusal,
  paymentRefusal,
  quoteRefusal,
  recordConsent,
  recordInvoice,
  recordPayment,
  recordQuote,
  startPaymentClock,
} from './quote-actions';
import {
  decisionRefusal,
  isExchangeToReplace,
  isReturnToShipBack,
  lapseReturn,
  recordInspection,
  recordReceipt,
  recordReplacementAnswer,
  recordReplacementShipped,
  recordReturnedUnit,
  recordRefund,
  refundMethodRefusal,
  recordReturnDecision,
  recordReturnRequest,
  recordSettlement,
  recordShipment,
  remindShipBack,
  requestReturnRefusal,
  startExchange,
  startShipBack,
} from './return-actions';
import {
  emptyChange,
  type Actor,
  type ClockName,
  type ClockState,
  type TicketChange,
  type TicketIntake,
  type TicketState,
  type TicketStatus,
} from './ticket';
import { appendEvent, appendNotification } from './timeline';
import { deriveWarranty } from './warranty';

export {
  ACTION_NAMES,
  actionInputSchema,
  type ActionInput,
  type ActionName,
  type ActionPayload,
} from './action-inputs';

/**
 * The ticket's lifecycle (SPEC section 1): which action is legal when, what each one records and
 * which clocks it starts, stops, pauses or moves. Pure: the workflow applies it, the API and the
 * tests read it.
 */
/** Statuses in which the work is still ahead: a priority change or a hold still matters. */
const WORK_STATUSES = ['acknowledged', 'planned', 'assigned', 'accepted', 'scheduled', 'in_service'] as const;
const BEFORE_SERVICE = ['new', 'acknowledged', 'planned', 'assigned', 'accepted', 'scheduled'] as const;
/** An approved return on its way back, at inspection, at finance, or in negotiation. */
const RETURN_STATUSES = [
  'returning',
  'inspecting',
  'refunding',
  'negotiating',
  'exchanging',
  'replacement_shipped',
  'awaiting_unit',
] as const;
const SERVICE_OPEN_STATUSES: readonly TicketStatus[] = [
  'new',
  ...WORK_STATUSES,
  'on_hold',
  'quality_check',
  'resolved',
  'follow_up',
];
const OPEN_STATUSES: readonly TicketStatus[] = [
  ...SERVICE_OPEN_STATUSES,
  'awaiting_consent',
  ...RETURN_STATUSES,
];
/** Statuses in which an engineer holds the ticket's work: what dispatch counts as open load. */
const ENGINEER_BUSY: readonly TicketStatus[] = ['assigned', 'accepted', 'scheduled', 'in_service'];

interface ActionRule<A extends ActionName> {
  readonly from: readonly TicketStatus[];
  /** A refusal that depends on more of the ticket than its status; returns why, or undefined. */
  readonly when?: (state: TicketState) => string | undefined;
  /** A refusal that depends on the input (or the time); returns why, or undefined when allowed. */
  readonly guard?: (state: TicketState, input: ActionInput<A>, nowMs: number) => string | undefined;
}

/** After the work: where it is paid and invoiced. */
const PAYABLE_STATUSES: readonly TicketStatus[] = ['quality_check', 'resolved', 'follow_up', 'closed'];

/** Where a return or exchange is requested and decided: after acknowledgement, before service. */
const BEFORE_APPROVAL = BEFORE_SERVICE.filter((status) => status !== 'new');

const needsApproval = (state: TicketState) =>
  (state.intake.serviceType === 'return' || state.intake.serviceType === 'exchange') &&
  state.approval === null;

/** Why service cannot start or finish yet: a manager's approval, or the customer's consent. */
const serviceWaits = (state: TicketState) =>
  needsApproval(state)
    ? 'a return or exchange needs a manager’s approve first'
    : needsConsent(state)
      ? 'out of warranty: the customer consents to a quote first'
      : undefined;

const RULES: { readonly [A in ActionName]: ActionRule<A> } = {
  acknowledge: { from: ['new'] },
  classify: { from: SERVICE_OPEN_STATUSES },
  plan: {
    from: [...WORK_STATUSES, 'resolved', 'follow_up'],
    when: (state) =>
      (WORK_STATUSES as readonly TicketStatus[]).includes(state.status) ||
      isClockRunning(state, 'directorPlan')
        ? undefined
        : 'after resolution only a director plan is recorded, while one is owed',
    guard: (state, input, nowMs) => {
      if (state.planDeadlines && input.deadline !== undefined && Date.parse(input.deadline) <= nowMs) {
        return 'deadline must be in the future';
      }
      if (input.kind === 'director') {
        return isClockRunning(state, 'directorPlan') ? undefined : 'no director plan is owed';
      }
      if (input.kind === 'meeting' && !isMajorComplaint(state)) {
        return 'a meeting plan is recorded for a major complaint (a critical complaint)';
      }
      if (!(WORK_STATUSES as readonly TicketStatus[]).includes(state.status)) {
        return `a ${input.kind} plan is recorded before the ticket is resolved`;
      }
      if (input.kind === 'temporary' && !isClockRunning(state, 'criticalTemporaryPlan')) {
        return 'no temporary plan is owed (only a critical ticket owes one, until it is met)';
      }
      return undefined;
    },
  },
  assign: { from: ['planned', 'assigned'] },
  accept: { from: ['assigned'] },
  decline: { from: ['assigned'] },
  schedule: {
    from: ['accepted', 'scheduled'],
    guard: (_state, input, nowMs) =>
      Date.parse(input.slotStart) > nowMs ? undefined : 'slotStart must be in the future',
  },
  start: {
    from: ['accepted', 'scheduled'],
    when: serviceWaits,
    guard: (state, input) =>
      state.onsiteSince !== undefined && input.mode === 'remote'
        ? 'the remote service failed and the ticket was converted to an on-site visit: start it onsite'
        : undefined,
  },
  'go-onsite': {
    from: ['in_service'],
    when: (state) =>
      state.serviceMode === 'remote'
        ? undefined
        : 'only a service that started remotely converts to an on-site visit',
  },
  resolve: { from: ['acknowledged', 'planned', 'in_service'], when: serviceWaits },
  quote: { from: WORK_STATUSES, when: quoteRefusal },
  consent: { from: ['awaiting_consent'] },
  'record-payment': {
    from: PAYABLE_STATUSES,
    when: paymentRefusal,
    guard: (state, input) => paymentAmountRefusal(state, input),
  },
  'send-invoice': { from: PAYABLE_STATUSES, when: invoiceRefusal },
  'offer-remedy': { from: ['follow_up'], when: offerRemedyRefusal },
  'decide-remedy': { from: ['follow_up', 'resolved', 'closed'], when: decideRemedyRefusal },
  'qc-review': {
    from: ['quality_check'],
    guard: (state, input, nowMs) => rectificationOrderRefusal(state, input, nowMs),
  },
  'record-rectification': { from: [...OPEN_STATUSES, 'closed'], when: rectifiedRefusal },
  'record-handling-cost': { from: [...OPEN_STATUSES, 'closed'], when: handlingCostRefusal },
  callback: {
    from: ['resolved'],
    guard: (state, input) => (state.analysesComplaints ? dissatisfactionRefusal(input) : undefined),
  },
  'follow-up': { from: ['follow_up'] },
  'request-return': { from: BEFORE_APPROVAL, when: requestReturnRefusal },
  approve: { from: BEFORE_APPROVAL, when: (state) => decisionRefusal(state, 'approve') },
  reject: { from: BEFORE_APPROVAL, when: (state) => decisionRefusal(state, 'reject') },
  'ship-back': {
    from: ['returning'],
    when: (state) => (state.returnCase?.shipment ? 'the shipment is already recorded' : undefined),
  },
  'receive-return': { from: ['returning'] },
  'inspect-return': { from: ['inspecting'] },
  refund: { from: ['refunding'], guard: (state, input) => refundMethodRefusal(state, input) },
  'settle-return': { from: ['negotiating'] },
  'ship-replacement': { from: ['exchanging'] },
  'confirm-replacement': { from: ['replacement_shipped'] },
  'receive-unit': {
    from: ['exchanging', 'replacement_shipped', 'awaiting_unit'],
    when: (state) => (state.returnCase?.returnedUnit ? 'the unit taken back is already booked' : undefined),
  },
  hold: { from: WORK_STATUSES },
  resume: { from: ['on_hold'] },
  reopen: {
    from: ['closed'],
    when: (state) => (isClockRunning(state, 'reopenWindow') ? undefined : 'the reopen window has passed'),
  },
  cancel: {
    from: [...BEFORE_SERVICE, 'on_hold', 'returning', 'exchanging', 'awaiting_consent'],
    when: (state) =>
      state.status === 'on_hold' && state.hold?.resumeTo === 'in_service'
        ? 'service has started; a ticket can be cancelled only before'
        : undefined,
  },
  close: {
    from: ['resolved'],
    guard: (state, input) =>
      input.reason === 'customer_unreachable' && !state.clocks.callback?.breachedAt
        ? 'customer_unreachable closes only after the callback window has passed'
        : undefined,
  },
  'escalation-ack': {
    from: [...OPEN_STATUSES, 'closed'],
    when: (state) => (state.escalations.some(isOpenEscalation) ? undefined : 'there is no open escalation'),
    guard: (state, input) => {
      const open = state.escalations.filter(isOpenEscalation);
      if (input.escalationId && !open.some((escalation) => escalation.id === input.escalationId)) {
        return `escalation ${input.escalationId} is not open on this ticket`;
      }
      return undefined;
    },
  },
  note: { from: [...OPEN_STATUSES, 'closed'] },
};

/** The actions the ticket allows now (some may still be refused for their input). */
export function allowedActions(state: TicketState): ActionName[] {
  if (state.archivedAt !== null) return [];
  return ACTION_NAMES.filter(
    (action) => RULES[action].from.includes(state.status) && !RULES[action].when?.(state),
  );
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly action: ActionName,
    readonly status: TicketStatus,
    readonly allowed: readonly ActionName[],
    why?: string,
  ) {
    super(
      why
        ? `cannot ${action} this ${status} ticket: ${why}`
        : `cannot ${action} a ticket that is ${status}; allowed now: ${allowed.length ? allowed.join(', ') : 'none'}`,
    );
    this.name = 'IllegalTransitionError';
  }
}

/** Throws `IllegalTransitionError` unless the action is legal now with this input. */
export function assertTransition<A extends ActionName>(
  state: TicketState,
  action: A,
  input?: ActionInput<A>,
  nowMs?: number,
): void {
  const allowed = allowedActions(state);
  const rule = RULES[action] as ActionRule<A>;
  if (!rule.from.includes(state.status) || state.archivedAt !== null) {
    throw new IllegalTransitionError(action, state.status, allowed);
  }
  const why =
    rule.when?.(state) ?? (input === undefined ? undefined : rule.guard?.(state, input, nowMs ?? 0));
  if (why) throw new IllegalTransitionError(action, state.status, allowed, why);
}

export interface TransitionContext {
  readonly nowMs: number;
  readonly actor: Actor;
  readonly policy: SlaPolicy;
  /** A quote's catalogue unit prices (fen) by part number, read by the workflow before it applies. */
  readonly prices?: Readonly<Record<string, number>>;
}

interface OpenTicketRequest {
  readonly number: string;
  readonly intake: TicketIntake;
  readonly customerId: string;
  readonly repeatOf: string | null;
  readonly createdBy: Actor;
  readonly createdAtMs: number;
  readonly policy: SlaPolicy;
}

/** A new ticket: first-response and resolution clocks running, and the 24-hour plan when critical. */
export function openTicket(request: OpenTicketRequest): TicketState {
  const createdAt = new Date(request.createdAtMs).toISOString();
  const state: TicketState = {
    number: request.number,
    version: 1,
    status: 'new',
    intake: request.intake,
    customerId: request.customerId,
    repeatOf: request.repeatOf,
    warranty: deriveWarranty(
      request.intake.product?.purchaseDate,
      request.policy.warrantyMonths,
      localDate(request.createdAtMs, request.policy.calendar.timeZone),
    ),
    escalationLevel: 0,
    escalations: [],
    assignee: null,
    clocks: {},
    plans: [],
    dispatch: { attempt: 0, pending: false, manual: false, declines: [] },
    appointment: null,
    serviceRecords: [],
    approval: null,
    returnCase: null,
    quote: null,
    payment: null,
    invoice: null,
    remedies: [],
    quoteBeforeWork: request.policy.quoteBeforeWork === true,
    ...(request.policy.agentScope === 'own' ? { agentScope: 'own' as const } : {}),
    quality: null,
    hold: null,
    callbacks: [],
    complaints: 0,
    reservices: 0,
    closure: null,
    archivedAt: null,
    createdBy: request.createdBy,
    createdAt,
    updatedAt: createdAt,
    eventSeq: 0,
    notificationSeq: 0,
    namesPeople: true,
    planDeadlines: true,
    majorComplaints: true,
    tellsProgress: true,
    analysesComplaints: true,
    returnWaitClocks: true,
  };
  startClock(state, 'firstResponse', request.createdAtMs, request.policy);
  startClock(state, 'resolution', request.createdAtMs, request.policy);
  if (request.intake.priority === 'critical') {
    startClock(state, 'criticalTemporaryPlan', request.createdAtMs, request.policy);
  }
  return state;
}

/**
 * What opening a ticket records: its creation, and the supervisor's notice for a critical one and
 * (seed 002: 客户标记“紧急”时,同步通知部门主管) an urgent one. `urgentNotice` is the workflow's
 * `urgent-supervisor-notice` patch: an urgent ticket whose history predates it replays without.
 */
export function recordOpening(state: TicketState, options = { urgentNotice: true }): TicketChange {
  const change = emptyChange();
  const createdAtMs = Date.parse(state.createdAt);
  appendEvent(state, change, 'created', createdAtMs, state.createdBy, {
    channel: state.intake.channel,
    category: state.intake.category,
    priority: state.intake.priority,
    ...(state.repeatOf ? { repeatOf: state.repeatOf } : {}),
  });
  if (state.intake.priority === 'critical') notifyCritical(state, change, createdAtMs);
  if (isMajorComplaint(state)) notifyMajorComplaint(state, change, createdAtMs);
  if (state.intake.priority === 'urgent' && options.urgentNotice) {
    appendNotification(state, change, {
      kind: 'urgent_ticket_created',
      recipientRole: 'supervisor',
      channel: 'internal',
      nowMs: createdAtMs,
      data: { priority: 'urgent' },
    });
  }
  return change;
}

/**
 * The customer hears progress by SMS (seed 003: 及时与客户沟通,反馈处理进度) at each change that
 * matters to them — unless the ticket opted out (`progressSms: false`). The visit booked is the
 * appointment confirmation `schedule` sends anyway.
 */
export type ProgressStage = 'plan_confirmed' | 'engineer_assigned' | 'parts_delayed' | 'resolved';

function tellProgress(state: TicketState, change: TicketChange, nowMs: number, stage: ProgressStage): void {
  if (!state.tellsProgress || state.intake.progressSms === false) return;
  appendNotification(state, change, {
    kind: 'progress',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { stage },
  });
}

/** 重大投诉 (seed 003): a complaint of the highest priority, on a ticket that reports it. */
function isMajorComplaint(state: TicketState): boolean {
  return (
    state.majorComplaints === true &&
    state.intake.category === 'complaint' &&
    state.intake.priority === 'critical'
  );
}

/** A major complaint goes to the operations manager at once, who holds the complaint meeting. */
function notifyMajorComplaint(state: TicketState, change: TicketChange, nowMs: number): void {
  appendNotification(state, change, {
    kind: 'major_complaint',
    recipientRole: 'manager',
    channel: 'internal',
    nowMs,
    data: { category: 'complaint', priority: 'critical' },
  });
}

function notifyCritical(state: TicketState, change: TicketChange, nowMs: number): void {
  appendNotification(state, change, {
    kind: 'critical_ticket_created',
    recipientRole: 'supervisor',
    channel: 'internal',
    nowMs,
    data: { priority: 'critical' },
  });
}

function isComplaint(input: ActionInput<'callback'>): boolean {
  return (
    Object.values(input.scores).some((value) => value <= 3) ||
    input.satisfaction === 'average' ||
    input.satisfaction === 'dissatisfied'
  );
}

/** Stops every clock of the service work: it is done (resolved) or will not happen (cancelled). */
const WORK_CLOCKS: readonly ClockName[] = [
  'plan',
  'criticalTemporaryPlan',
  'dispatchAccept',
  'customerContact',
  'appointmentReminder',
  'resolution',
  'partsWait',
  'partsApproval',
  'planDeadline',
];

/**
 * A plan's own deadline (seed 003: 处理期限) as a clock: it escalates if the plan is not carried out
 * by then — the ticket resolved (or cancelled), a director's plan by the close. A plan without a
 * deadline stops the one before.
 */
function planDeadlineClock(
  state: TicketState,
  input: ActionInput<'plan'>,
  nowMs: number,
  policy: SlaPolicy,
): ClockState | undefined {
  meetClock(state, 'planDeadline', nowMs);
  if (input.deadline === undefined) return undefined;
  return startClock(state, 'planDeadline', nowMs, policy, Date.parse(input.deadline));
}

function stopClocks(state: TicketState, names: readonly ClockName[], nowMs: number): void {
  for (const name of names) meetClock(state, name, nowMs);
}

/** A reopen or a failed quality review: back to the start of service, counted as a repeat. */
function sendBackForService(
  state: TicketState,
  nowMs: number,
  policy: SlaPolicy,
  change: TicketChange,
  actor: Actor,
  type: 'reopened' | 'qc_failed',
  data: Record<string, unknown>,
): void {
  state.status = 'acknowledged';
  state.reservices += 1;
  state.assignee = null;
  state.appointment = null;
  state.closure = null;
  state.dispatch = { ...state.dispatch, pending: false, manual: false };
  stopClocks(state, ['callback', 'reopenWindow'], nowMs);
  const resolution = startClock(state, 'resolution', nowMs, policy);
  const plan = startClock(state, 'plan', nowMs, policy);
  appendEvent(state, change, type, nowMs, actor, {
    ...data,
    repeat: state.reservices,
    planDueAt: plan.dueAt,
    resolutionDueAt: resolution.dueAt,
  });
}

function offerToEngineer(
  state: TicketState,
  engineerId: string,
  nowMs: number,
  policy: SlaPolicy,
  change: TicketChange,
  how: 'automatic' | 'manual',
  actor: Actor | null,
  overCapacity = false,
): void {
  state.status = 'assigned';
  state.assignee = engineerId;
  state.dispatch.pending = false;
  state.dispatch.manual = false;
  const clock = startClock(state, 'dispatchAccept', nowMs, policy);
  appendEvent(state, change, 'assigned', nowMs, actor, {
    engineerId,
    how,
    acceptDueAt: clock.dueAt,
    ...(overCapacity ? { overCapacity } : {}),
  });
  appendNotification(state, change, {
    kind: 'dispatch_offer',
    recipientRole: 'engineer',
    channel: 'internal',
    nowMs,
    data: { engineerId, acceptDueAt: clock.dueAt },
  });
}

/** The engineer gave the ticket back (declined, or let the acceptance clock run out): dispatch again. */
function releaseToDispatch(state: TicketState, reason: string, nowMs: number): string | null {
  const engineerId = state.assignee;
  if (engineerId) state.dispatch.declines.push({ engineerId, reason, at: new Date(nowMs).toISOString() });
  state.assignee = null;
  state.status = 'planned';
  state.dispatch.pending = true;
  return engineerId;
}

type Apply<A extends ActionName> = (
  state: TicketState,
  input: ActionInput<A>,
  context: TransitionContext,
  change: TicketChange,
) => void;

const APPLY: { readonly [A in ActionName]: Apply<A> } = {
  acknowledge(state, input, { nowMs, actor, policy }, change) {
    state.status = 'acknowledged';
    state.acknowledgedBy = actor;
    meetClock(state, 'firstResponse', nowMs);
    const plan = startClock(state, 'plan', nowMs, policy);
    appendEvent(state, change, 'acknowledged', nowMs, actor, { ...input, planDueAt: plan.dueAt });
    appendNotification(state, change, {
      kind: 'ticket_acknowledged',
      recipientRole: 'customer',
      channel: 'sms',
      nowMs,
      data: {},
    });
  },
  classify(state, input, { nowMs, actor, policy }, change) {
    const wasMajor = isMajorComplaint(state);
    const before = {
      category: state.intake.category,
      priority: state.intake.priority,
      serviceType: state.intake.serviceType,
    };
    state.intake = {
      ...state.intake,
      ...(input.progressSms === undefined ? {} : { progressSms: input.progressSms }),
      ...(input.category ? { category: input.category } : {}),
      ...(input.priority ? { priority: input.priority } : {}),
      ...(input.serviceType ? { serviceType: input.serviceType } : {}),
    };
    const analysis = classifyAnalysis(state, input);
    const moved = before.priority === state.intake.priority ? [] : reschedulePriorityClocks(state, policy);
    appendEvent(state, change, 'classified', nowMs, actor, {
      from: before,
      to: {
        category: state.intake.category,
        priority: state.intake.priority,
        serviceType: state.intake.serviceType,
      },
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.progressSms === undefined ? {} : { progressSms: input.progressSms }),
      ...(analysis ? { analysis } : {}),
      movedClocks: Object.fromEntries(moved.map((name) => [name, state.clocks[name as ClockName]?.dueAt])),
    });
    const becameCritical = before.priority !== 'critical' && state.intake.priority === 'critical';
    if (becameCritical && !state.clocks.criticalTemporaryPlan && isClockRunning(state, 'resolution')) {
      startClock(state, 'criticalTemporaryPlan', nowMs, policy);
      notifyCritical(state, change, nowMs);
    }
    if (!wasMajor && isMajorComplaint(state)) notifyMajorComplaint(state, change, nowMs);
  },
  plan(state, input, { nowMs, actor, policy }, change) {
    state.plans.push({ at: new Date(nowMs).toISOString(), actor, input: { ...input } });
    // The newest plan's deadline is the one that counts: a later plan replaces an earlier one's.
    const planDeadline = state.planDeadlines ? planDeadlineClock(state, input, nowMs, policy) : undefined;
    if (input.kind === 'director') {
      meetClock(state, 'directorPlan', nowMs);
    } else {
      meetClock(state, 'plan', nowMs);
      if (input.kind === 'temporary') meetClock(state, 'criticalTemporaryPlan', nowMs);
      if (state.status === 'acknowledged') {
        state.status = 'planned';
        state.dispatch.pending = input.dispatch;
      }
    }
    appendEvent(state, change, 'planned', nowMs, actor, {
      ...input,
      ...(planDeadline ? { deadlineDueAt: planDeadline.dueAt } : {}),
    });
    if (input.customerConfirmed) tellProgress(state, change, nowMs, 'plan_confirmed');
  },
  assign(state, input, { nowMs, actor, policy }, change) {
    if (state.assignee && state.assignee !== input.engineerId) {
      state.dispatch.declines.push({
        engineerId: state.assignee,
        reason: `reassigned by ${actor.id}`,
        at: new Date(nowMs).toISOString(),
      });
    }
    // Recorded when the assigner knowingly went past the engineer's capacity.
    offerToEngineer(state, input.engineerId, nowMs, policy, change, 'manual', actor, input.overCapacity);
  },
  accept(state, input, { nowMs, actor, policy }, change) {
    state.status = 'accepted';
    meetClock(state, 'dispatchAccept', nowMs);
    const contact = startClock(state, 'customerContact', nowMs, policy);
    appendEvent(state, change, 'accepted', nowMs, actor, {
      ...input,
      engineerId: state.assignee,
      contactDueAt: contact.dueAt,
    });
    tellProgress(state, change, nowMs, 'engineer_assigned');
  },
  decline(state, input, { nowMs, actor }, change) {
    meetClock(state, 'dispatchAccept', nowMs);
    const engineerId = releaseToDispatch(state, input.reason, nowMs);
    appendEvent(state, change, 'declined', nowMs, actor, { engineerId, reason: input.reason });
  },
  schedule(state, input, { nowMs, actor, policy }, change) {
    const rescheduled = state.status === 'scheduled';
    state.status = 'scheduled';
    meetClock(state, 'customerContact', nowMs);
    state.appointment = {
      slotStart: new Date(Date.parse(input.slotStart)).toISOString(),
      slotEnd: input.slotEnd ? new Date(Date.parse(input.slotEnd)).toISOString() : null,
      bookedAt: new Date(nowMs).toISOString(),
    };
    const reminderAtMs = Math.max(nowMs, Date.parse(input.slotStart) - policy.appointmentReminder.ms);
    const reminder = startClock(state, 'appointmentReminder', nowMs, policy, reminderAtMs);
    appendEvent(state, change, rescheduled ? 'rescheduled' : 'scheduled', nowMs, actor, {
      ...state.appointment,
      ...(input.note ? { note: input.note } : {}),
      reminderAt: reminder.dueAt,
    });
    const channels = state.intake.customer.email ? (['sms', 'email'] as const) : (['sms'] as const);
    for (const channel of channels) {
      appendNotification(state, change, {
        kind: 'appointment_confirmed',
        recipientRole: 'customer',
        channel,
        nowMs,
        data: { slotStart: state.appointment.slotStart, slotEnd: state.appointment.slotEnd, rescheduled },
      });
    }
  },
  start(state, input, { nowMs, actor }, change) {
    state.status = 'in_service';
    state.serviceMode = input.mode;
    stopClocks(state, ['customerContact', 'appointmentReminder'], nowMs);
    appendEvent(state, change, 'service_started', nowMs, actor, { ...input, engineerId: state.assignee });
  },
  /**
   * The remote service failed (seed 004: 若远程无法解决,需明确告知客户“需转为上门服务”,并重新预约时间):
   * the same ticket, the same engineer, back to booking a visit within the policy's customerContact
   * clock, then the on-site path (schedule, its reminder, start onsite); the resolution clock runs on.
   */
  'go-onsite'(state, input, { nowMs, actor, policy }, change) {
    state.status = 'accepted';
    delete state.serviceMode;
    state.onsiteSince = new Date(nowMs).toISOString();
    state.appointment = null;
    const contact = startClock(state, 'customerContact', nowMs, policy);
    appendEvent(state, change, 'converted_onsite', nowMs, actor, {
      ...input,
      engineerId: state.assignee,
      contactDueAt: contact.dueAt,
    });
  },
  resolve(state, input, { nowMs, actor, policy }, change) {
    stopClocks(state, WORK_CLOCKS, nowMs);
    const free = state.warranty.status === 'in_warranty';
    // Money is integer fen, as in quotes and payments.
    const parts = input.parts.map((part) => ({
      ...part,
      freeUnderWarranty: free,
      chargedFen: free ? 0 : part.quantity * part.unitPriceFen,
    }));
    const partsCostFen = parts.reduce((sum, part) => sum + part.quantity * part.unitPriceFen, 0);
    // Under warranty labour and the visit are free too when the policy says so (an older policy: charged).
    const feesFree = free && policy.warrantyCoversFees === true;
    const feesFen = feesFree ? 0 : input.fees.laborFen + input.fees.visitFen;
    const chargedFen = parts.reduce((sum, part) => sum + part.chargedFen, 0) + feesFen;
    // The quote the customer consented to (seed 004) beside what the record charges.
    const accepted = state.quote?.status === 'accepted' ? state.quote : undefined;
    const record = {
      ...input,
      parts,
      engineerId: state.assignee,
      partsCostFen,
      visitCostFen: input.fees.visitFen,
      chargedFen,
      ...(feesFree ? { feesFreeUnderWarranty: true } : {}),
      ...(accepted ? { quoteRound: accepted.round, quotedFen: accepted.totalFen } : {}),
    };
    state.serviceRecords.push({ at: new Date(nowMs).toISOString(), actor, input: record });
    const quality = qualityDecision(state, policy.qcSampleRate);
    state.quality = { ...quality, reviews: [] };
    const paymentDueAt = startPaymentClock(state, nowMs, policy);
    appendEvent(state, change, 'resolved', nowMs, actor, {
      ...record,
      qualityCheck: quality.reason,
      ...(paymentDueAt ? { paymentDueAt } : {}),
    });
    tellProgress(state, change, nowMs, 'resolved');
    if (quality.required) {
      state.status = 'quality_check';
    } else {
      startCallback(state, nowMs, policy, change, actor);
    }
  },
  'qc-review'(state, input, { nowMs, actor, policy }, change) {
    const score = reviewScore(input);
    const band = scoreBand(score);
    state.quality?.reviews.push({ at: new Date(nowMs).toISOString(), actor, band, ...input, score });
    appendEvent(state, change, 'qc_reviewed', nowMs, actor, { ...input, score, band });
    if (band === 'fail') {
      sendBackForService(state, nowMs, policy, change, actor, 'qc_failed', { score });
      orderRectification(state, input, { nowMs, actor, policy }, change);
    } else {
      startCallback(state, nowMs, policy, change, actor);
    }
  },
  callback(state, input, { nowMs, actor, policy }, change) {
    const complaint = isComplaint(input);
    meetClock(state, 'callback', nowMs);
    state.callbacks.push({ at: new Date(nowMs).toISOString(), actor, complaint, input: { ...input } });
    appendEvent(state, change, 'callback_recorded', nowMs, actor, { ...input, complaint });
    if (!complaint) {
      closeTicket(state, nowMs, policy, change, actor, 'customer_satisfied');
      return;
    }
    state.complaints += 1;
    state.status = 'follow_up';
    const followUp = startClock(state, 'complaintFollowUp', nowMs, policy);
    appendEvent(state, change, 'complaint_opened', nowMs, actor, {
      complaint: state.complaints,
      followUpDueAt: followUp.dueAt,
    });
    appendNotification(state, change, {
      kind: 'follow_up_due',
      recipientRole: 'supervisor',
      channel: 'internal',
      nowMs,
      data: { dueAt: followUp.dueAt, complaint: state.complaints },
    });
    if (state.complaints >= 2) {
      const directorPlan = startClock(state, 'directorPlan', nowMs, policy);
      escalate(
        state,
        {
          id: `${state.number}:secondComplaint:${state.complaints}`,
          source: 'secondComplaint',
          level: 3,
          reason: 'second_complaint',
          missedDeadline: new Date(nowMs).toISOString(),
        },
        nowMs,
        policy,
        change,
      );
      appendEvent(state, change, 'director_plan_owed', nowMs, null, { dueAt: directorPlan.dueAt });
    }
  },
  'follow-up'(state, input, { nowMs, actor, policy }, change) {
    meetClock(state, 'complaintFollowUp', nowMs);
    appendEvent(state, change, 'follow_up_recorded', nowMs, actor, { ...input });
    startCallback(state, nowMs, policy, change, actor);
  },
  'request-return'(state, input, context, change) {
    if (recordReturnRequest(state, input, context, change)) {
      closeBeforeService(state, context, change, 'ineligible');
    }
  },
  approve(state, input, context, change) {
    const { nowMs, actor } = context;
    state.approval = { at: new Date(nowMs).toISOString(), actor, input: { ...input } };
    appendEvent(state, change, 'approved', nowMs, actor, {
      ...input,
      serviceType: state.intake.serviceType,
    });
    if (isExchangeToReplace(state)) {
      // An exchange is not serviced either: the parts group sends a replacement from stock.
      stopClocks(state, WORK_CLOCKS, nowMs);
      recordReturnDecision(state, 'approved', undefined, context, change);
      startExchange(state, context, change);
      return;
    }
    if (!isReturnToShipBack(state)) {
      recordReturnDecision(state, 'approved', undefined, context, change);
      return;
    }
    // A return is not serviced: the product comes back, is inspected and refunded.
    stopClocks(state, WORK_CLOCKS, nowMs);
    const shipBackBy = startShipBack(state, context, change);
    recordReturnDecision(state, 'approved', undefined, context, change, { shipBackBy });
  },
  reject(state, input, context, change) {
    recordReturnDecision(state, 'rejected', input.reason, context, change);
    closeBeforeService(state, context, change, 'rejected');
  },
  'ship-back'(state, input, context, change) {
    recordShipment(state, input, context, change);
  },
  'receive-return'(state, input, context, change) {
    recordReceipt(state, input, context, change);
  },
  'inspect-return'(state, input, context, change) {
    recordInspection(state, input, context, change);
  },
  refund(state, input, context, change) {
    recordRefund(state, input, context, change);
    closeTicket(state, context.nowMs, context.policy, change, context.actor, 'refunded');
  },
  quote(state, input, context, change) {
    recordQuote(state, input, context, change);
  },
  consent(state, input, context, change) {
    if (recordConsent(state, input, context, change)) {
      closeBeforeService(state, context, change, 'declined');
    }
  },
  'record-payment'(state, input, context, change) {
    recordPayment(state, input, context, change);
  },
  'send-invoice'(state, input, context, change) {
    recordInvoice(state, input, context, change);
  },
  'offer-remedy'(state, input, context, change) {
    recordRemedyOffer(state, input, context, change);
  },
  'decide-remedy'(state, input, context, change) {
    recordRemedyDecision(state, input, context, change);
  },
  'ship-replacement'(state, input, context, change) {
    recordReplacementShipped(state, input, context, change);
  },
  'confirm-replacement'(state, input, context, change) {
    if (recordReplacementAnswer(state, input, context, change)) {
      closeTicket(state, context.nowMs, context.policy, change, context.actor, 'exchanged');
    }
  },
  'receive-unit'(state, input, context, change) {
    if (recordReturnedUnit(state, input, context, change)) {
      closeTicket(state, context.nowMs, context.policy, change, context.actor, 'exchanged');
    }
  },
  'settle-return'(state, input, context, change) {
    if (recordSettlement(state, input, context, change)) {
      closeTicket(state, context.nowMs, context.policy, change, context.actor, 'returned_to_customer');
    }
  },
  hold(state, input, { nowMs, actor }, change) {
    state.hold = { since: new Date(nowMs).toISOString(), reason: input.reason, resumeTo: state.status };
    state.status = 'on_hold';
    pauseClocks(state, nowMs);
    appendEvent(state, change, 'held', nowMs, actor, { ...input });
  },
  resume(state, input, { nowMs, actor, policy }, change) {
    const hold = state.hold;
    state.status = hold?.resumeTo ?? 'acknowledged';
    state.hold = null;
    // Still waiting for parts under a policy that pauses resolution for it: resolution stays paused.
    resumeClocks(state, nowMs, policy, partsHoldResolution(state, policy) ? ['resolution'] : []);
    appendEvent(state, change, 'resumed', nowMs, actor, {
      ...input,
      heldSince: hold?.since,
      resolutionDueAt: state.clocks.resolution?.dueAt,
    });
  },
  reopen(state, input, { nowMs, actor, policy }, change) {
    sendBackForService(state, nowMs, policy, change, actor, 'reopened', { ...input });
  },
  cancel(state, input, { nowMs, actor }, change) {
    state.status = 'cancelled';
    state.hold = null;
    stopClocks(state, Object.keys(state.clocks) as ClockName[], nowMs);
    appendEvent(state, change, 'cancelled', nowMs, actor, { ...input });
  },
  close(state, input, { nowMs, actor, policy }, change) {
    closeTicket(state, nowMs, policy, change, actor, input.reason, input.note);
  },
  'record-rectification'(state, input, context, change) {
    recordRectification(state, input, context, change);
  },
  'record-handling-cost'(state, input, context, change) {
    recordHandlingCost(state, input, context, change);
  },
  'escalation-ack'(state, input, { nowMs, actor }, change) {
    const acknowledged = acknowledgeEscalations(state, input.escalationId, actor, nowMs, change);
    appendEvent(state, change, 'escalation_acknowledged', nowMs, actor, {
      escalationIds: acknowledged,
      ...(input.note ? { note: input.note } : {}),
    });
  },
  note(state, input, { nowMs, actor }, change) {
    appendEvent(state, change, 'note', nowMs, actor, { ...input });
  },
};

function startCallback(
  state: TicketState,
  nowMs: number,
  policy: SlaPolicy,
  change: TicketChange,
  actor: Actor,
): void {
  state.status = 'resolved';
  const callback = startClock(state, 'callback', nowMs, policy);
  appendEvent(state, change, 'callback_due', nowMs, actor, { dueAt: callback.dueAt });
}

/** A return or exchange refused or rejected: the work that was planned will not happen. */
function closeBeforeService(
  state: TicketState,
  { nowMs, actor, policy }: TransitionContext,
  change: TicketChange,
  reason: 'ineligible' | 'rejected' | 'declined',
): void {
  stopClocks(state, WORK_CLOCKS, nowMs);
  closeTicket(state, nowMs, policy, change, actor, reason);
}

function closeTicket(
  state: TicketState,
  nowMs: number,
  policy: SlaPolicy,
  change: TicketChange,
  actor: Actor | null,
  reason: string,
  note?: string,
): void {
  state.status = 'closed';
  state.closure = { at: new Date(nowMs).toISOString(), reason };
  meetClock(state, 'callback', nowMs);
  // A director's plan (recorded after resolution) is carried out by the close.
  meetClock(state, 'planDeadline', nowMs);
  const window = startClock(state, 'reopenWindow', nowMs, policy);
  appendEvent(state, change, 'closed', nowMs, actor, {
    reason,
    ...(note ? { note } : {}),
    reopenableUntil: window.dueAt,
  });
}

/**
 * Applies a legal action to the state in place and returns what it records. The caller has parsed
 * the input with `actionInputSchema`; an illegal action throws `IllegalTransitionError`.
 */
export function applyAction<A extends ActionName>(
  state: TicketState,
  action: A,
  input: ActionInput<A>,
  context: TransitionContext,
): TicketChange {
  assertTransition(state, action, input, context.nowMs);
  const change = emptyChange();
  (APPLY[action] as Apply<A>)(state, input, context, change);
  touch(state, context.nowMs);
  return change;
}

/** The policy pauses resolution while the ticket waits for parts, and it is waiting now. */
function partsHoldResolution(state: TicketState, policy: SlaPolicy): boolean {
  return policy.partsWaitPausesResolution === true && isClockRunning(state, 'partsWait');
}

/** The parts are there (or no longer wanted): resolution counts again, unless on hold anyway. */
function stopWaitingForParts(state: TicketState, nowMs: number, policy: SlaPolicy): void {
  meetClock(state, 'partsWait', nowMs);
  if (policy.partsWaitPausesResolution === true && state.status !== 'on_hold') {
    resumeClock(state, 'resolution', nowMs, policy);
  }
}

/** Why the ticket cannot hear of its parts now (past resolve, or cancelled), or undefined. */
export function partsEventRefusal(state: TicketState): string | undefined {
  return PARTS_REQUEST_STATUSES.includes(state.status)
    ? undefined
    : `ticket ${state.number} is ${state.status}; parts are requested before it is resolved`;
}

/**
 * Starts or stops the parts clocks (policy `partsWait`, `partsApproval`), which escalate like the
 * others when they run out, and records what happened on the timeline. A changed plan's release
 * stops the waiting-for-parts clock when nothing is awaited any more.
 */
export function applyPartsEvent(
  state: TicketState,
  event: PartsEvent | PlanReleaseEvent,
  context: TransitionContext,
): TicketChange {
  const { nowMs, actor, policy } = context;
  const change = emptyChange();
  switch (event.kind) {
    case 'waiting': {
      // The customer hears of the delay once per wait, not for every shortfall reported in it.
      const waitingAlready = isClockRunning(state, 'partsWait');
      const clock = waitingAlready ? state.clocks.partsWait : startClock(state, 'partsWait', nowMs, policy);
      if (partsHoldResolution(state, policy)) pauseClock(state, 'resolution', nowMs);
      appendEvent(state, change, 'parts_waiting', nowMs, actor, {
        shortfalls: event.shortfalls,
        dueAt: clock?.dueAt,
      });
      if (!waitingAlready) tellProgress(state, change, nowMs, 'parts_delayed');
      break;
    }
    case 'ready':
      stopWaitingForParts(state, nowMs, policy);
      appendEvent(state, change, 'parts_ready', nowMs, actor, {});
      break;
    case 'plan_released':
      appendEvent(state, change, 'parts_released', nowMs, actor, {
        reason: 'plan_changed',
        released: event.released,
        withdrawn: event.withdrawn,
      });
      if (!event.stillWaiting && isClockRunning(state, 'partsWait')) {
        stopWaitingForParts(state, nowMs, policy);
        appendEvent(state, change, 'parts_ready', nowMs, actor, {});
      }
      if (event.awaitingApproval === 0) meetClock(state, 'partsApproval', nowMs);
      break;
    case 'approval_requested': {
      const clock = isClockRunning(state, 'partsApproval')
        ? state.clocks.partsApproval
        : startClock(state, 'partsApproval', nowMs, policy);
      appendEvent(state, change, 'parts_approval_requested', nowMs, actor, {
        partNumbers: event.partNumbers,
        dueAt: clock?.dueAt,
      });
      break;
    }
    case 'approval_decided':
      if (event.pending === 0) meetClock(state, 'partsApproval', nowMs);
      appendEvent(state, change, 'parts_approval_decided', nowMs, actor, { pending: event.pending });
      break;
  }
  touch(state, nowMs);
  return change;
}

/** Every change bumps the version: the projection keeps only the newest. */
export function touch(state: TicketState, nowMs: number): void {
  state.version += 1;
  state.updatedAt = new Date(nowMs).toISOString();
}

/**
 * Everything whose time has come: warnings before a breach go to whoever holds the ticket (once per
 * run of a clock), missed clocks escalate (once each), a silent engineer loses the ticket to the
 * next one, reminders go out, the reopen window archives, unacknowledged escalations climb. Returns
 * what it recorded; nothing when nothing was due.
 */
export function fireDue(
  state: TicketState,
  nowMs: number,
  policy: SlaPolicy,
  options: DeadlineOptions = { warnings: true },
): TicketChange {
  const change = emptyChange();
  if (options.warnings) warnDue(state, nowMs, change);
  for (const [name, clock] of dueClocks(state, nowMs)) {
    const onDue = CLOCK_RULES[name].onDue;
    const now = new Date(nowMs).toISOString();
    switch (onDue.kind) {
      case 'escalate':
        clock.breachedAt = now;
        escalate(
          state,
          {
            id: `${state.number}:${name}:${clock.cycle}`,
            source: name,
            level: onDue.level,
            reason: onDue.reason,
            missedDeadline: clock.dueAt,
          },
          nowMs,
          policy,
          change,
        );
        if (onDue.smsSurvey) {
          appendNotification(state, change, {
            kind: 'sms_survey',
            recipientRole: 'customer',
            channel: 'sms',
            nowMs,
            data: {},
          });
        }
        break;
      case 'redispatch': {
        clock.breachedAt = now;
        const engineerId = releaseToDispatch(state, `no answer within ${clock.duration}`, nowMs);
        appendEvent(state, change, 'acceptance_missed', nowMs, null, {
          engineerId,
          missedDeadline: clock.dueAt,
        });
        break;
      }
      case 'remind':
        clock.metAt = now;
        for (const recipientRole of ['customer', 'engineer'] as const) {
          appendNotification(state, change, {
            kind: 'appointment_reminder',
            recipientRole,
            channel: recipientRole === 'customer' ? 'sms' : 'internal',
            nowMs,
            data: { slotStart: state.appointment?.slotStart, engineerId: state.assignee },
          });
        }
        break;
      case 'remindShipBack':
        clock.metAt = now;
        remindShipBack(state, nowMs, change);
        break;
      case 'lapseReturn':
        clock.breachedAt = now;
        lapseReturn(state, nowMs, change);
        break;
      case 'expireQuote':
        clock.breachedAt = now;
        expireQuote(state, nowMs, change);
        stopClocks(state, WORK_CLOCKS, nowMs);
        closeTicket(state, nowMs, policy, change, null, 'declined');
        break;
      case 'archive':
        clock.metAt = now;
        state.archivedAt = now;
        appendEvent(state, change, 'archived', nowMs, null, { closedAt: state.closure?.at });
        break;
    }
  }
  climbDueEscalations(state, nowMs, policy, change);
  if (change.events.length > 0) touch(state, nowMs);
  return change;
}

/** 超时预警: each clock whose warning instant has come tells whoever holds its work, once. */
function warnDue(state: TicketState, nowMs: number, change: TicketChange): void {
  for (const [name, clock] of dueWarnings(state, nowMs)) {
    clock.warnedAt = new Date(nowMs).toISOString();
    const holder = holderOf(state, name);
    appendEvent(state, change, 'sla_warning', nowMs, null, {
      clock: name,
      dueAt: clock.dueAt,
      recipientRole: holder.role,
      ...personData(holder),
    });
    appendNotification(state, change, {
      kind: 'clock_warning',
      recipientRole: holder.role,
      channel: 'internal',
      nowMs,
      data: { clock: name, dueAt: clock.dueAt, ...personData(holder) },
    });
  }
}

/** The ticket waits for the workflow to find it an engineer. */
export function needsDispatch(state: TicketState): boolean {
  return state.status === 'planned' && state.dispatch.pending;
}

export function dispatchNeeds(state: TicketState, policy: SlaPolicy): DispatchNeeds {
  return {
    productLine: state.intake.product?.line,
    region: state.intake.customer.region,
    location: state.intake.customer.location,
    preferWithinKm: dispatchRadiusKm(policy),
  };
}

/** Engineers to leave out of this search: whoever declined or missed the acceptance clock. */
export function excludedEngineers(state: TicketState): string[] {
  return [...new Set(state.dispatch.declines.map((decline) => decline.engineerId))];
}

/**
 * The answer of an automatic dispatch search. A stale answer (the ticket moved on while the search
 * ran, e.g. someone assigned it by hand) changes nothing but is recorded, so the projection — and
 * the engineer's load — is written again from the ticket's real state.
 */
export function applyDispatchResult(
  state: TicketState,
  attempt: number,
  engineerId: string | null,
  nowMs: number,
  policy: SlaPolicy,
): TicketChange {
  const change = emptyChange();
  if (!needsDispatch(state) || state.dispatch.attempt !== attempt) {
    appendEvent(state, change, 'dispatch_superseded', nowMs, null, { attempt, engineerId });
  } else if (engineerId) {
    offerToEngineer(state, engineerId, nowMs, policy, change, 'automatic', null);
  } else {
    state.dispatch.pending = false;
    state.dispatch.manual = true;
    appendEvent(state, change, 'manual_dispatch_needed', nowMs, null, {
      attempt,
      excluded: excludedEngineers(state),
    });
    appendNotification(state, change, {
      kind: 'manual_dispatch_needed',
      recipientRole: 'supervisor',
      channel: 'internal',
      nowMs,
      data: { attempt },
    });
  }
  touch(state, nowMs);
  return change;
}

/** Whether the assigned engineer is busy with this ticket: what dispatch counts as open load. */
export function holdsEngineer(state: TicketState): boolean {
  const status = state.status === 'on_hold' ? state.hold?.resumeTo : state.status;
  return state.assignee !== null && status !== undefined && ENGINEER_BUSY.includes(status);
}
