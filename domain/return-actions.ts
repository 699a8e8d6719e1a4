import { localDate } from './calendar';
import { meetClock, startClock } from './clocks';
import type { ActionInput } from './action-inputs';
import type { SlaPolicy } from './policy';
import {
  assessEligibility,
  describeIneligibility,
  isAwaitingDecision,
  mayRequestAgain,
  returnRules,
  type ReturnCase,
  type ReturnKind,
} from './returns';
import type { Actor, ClockName, TicketChange, TicketState } from './ticket';
import { appendEvent, appendNotification } from './timeline';

/**
 * What the return and exchange actions record (seed 003: request → eligibility → manager's
 * decision). The lifecycle wires them in: it checks when they are legal with the rules below and
 * closes the ticket when they say so.
 */
interface ReturnContext {
  readonly nowMs: number;
  readonly actor: Actor;
  readonly policy: SlaPolicy;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Starts one of the waits' clocks (replacement shipment, the customer's answer, the unit back, the
 * inspection, the negotiation) on a ticket that has them (`returnWaitClocks`); returns its deadline.
 */
function startWait(
  state: TicketState,
  name: ClockName,
  { nowMs, policy }: ReturnContext,
): string | undefined {
  return state.returnWaitClocks ? startClock(state, name, nowMs, policy).dueAt : undefined;
}

export function returnKindOf(state: TicketState): ReturnKind | undefined {
  const type = state.intake.serviceType;
  return type === 'return' || type === 'exchange' ? type : undefined;
}

/** Why `request-return` is not possible now, or undefined. */
export function requestReturnRefusal(state: TicketState): string | undefined {
  if (!returnKindOf(state)) return 'only a ticket of service type return or exchange takes a return request';
  if (state.returnCase === undefined)
    return 'this ticket was opened before return requests; a manager approves it';
  return mayRequestAgain(state.returnCase) ? undefined : 'a return request is already waiting or approved';
}

/** Why the manager cannot decide now (approve or reject), or undefined. */
export function decisionRefusal(state: TicketState, action: 'approve' | 'reject'): string | undefined {
  if (state.returnCase === undefined) {
    return action === 'approve' && returnKindOf(state) && state.approval === null
      ? undefined
      : `only a return or exchange waiting for approval can be ${action === 'approve' ? 'approved' : 'rejected'}`;
  }
  return isAwaitingDecision(state.returnCase)
    ? undefined
    : 'request-return first: eligibility is checked before a manager decides';
}

/**
 * Records the request with its eligibility. Eligible, or ineligible with an exception asked for: the
 * manager's approval clock starts. Ineligible otherwise: refused with the reasons, and the caller
 * closes the ticket. Returns whether it was refused.
 */
export function recordReturnRequest(
  state: TicketState,
  input: ActionInput<'request-return'>,
  { nowMs, actor, policy }: ReturnContext,
  change: TicketChange,
): boolean {
  const kind = returnKindOf(state) ?? 'return';
  const rules = returnRules(policy);
  const eligibility = assessEligibility(
    {
      kind,
      purchaseDate: state.intake.product?.purchaseDate,
      requestDate: localDate(Date.parse(state.createdAt), policy.calendar.timeZone),
      proofs: input.proofs,
    },
    rules,
  );
  const reasons = describeIneligibility(kind, eligibility);
  const refused = !eligibility.eligible && input.exception === undefined;
  const returnCase: ReturnCase = {
    kind,
    returnReason: input.returnReason,
    proofs: input.proofs,
    eligibility,
    exception: eligibility.eligible ? null : (input.exception ?? null),
    requestedAt: iso(nowMs),
    requestedBy: actor,
    ...(input.paidWith ? { paidWith: input.paidWith } : {}),
    decision: refused
      ? { outcome: 'refused', at: iso(nowMs), actor: null, reason: reasons.join('; ') }
      : null,
  };
  state.returnCase = returnCase;
  const approvalDueAt = refused ? undefined : startClock(state, 'returnApproval', nowMs, policy).dueAt;
  appendEvent(state, change, 'return_requested', nowMs, actor, {
    kind,
    returnReason: input.returnReason,
    proofs: input.proofs,
    eligible: eligibility.eligible,
    lastDay: eligibility.lastDay,
    ...(reasons.length > 0 ? { ineligible: reasons } : {}),
    ...(returnCase.exception ? { exception: returnCase.exception } : {}),
    ...(input.note ? { note: input.note } : {}),
    ...(approvalDueAt ? { approvalDueAt } : {}),
  });
  if (refused) {
    appendEvent(state, change, 'return_refused', nowMs, null, { kind, ineligible: reasons });
    appendNotification(state, change, {
      kind: 'return_refused',
      recipientRole: 'customer',
      channel: 'sms',
      nowMs,
      data: { kind, reasons: eligibility.reasons, lastDay: eligibility.lastDay },
    });
    return true;
  }
  appendNotification(state, change, {
    kind: 'return_approval_needed',
    recipientRole: 'manager',
    channel: 'internal',
    nowMs,
    data: { kind, exception: returnCase.exception !== null, dueAt: approvalDueAt },
  });
  return false;
}

/** The manager's decision: the approval clock stops and the customer is told (with `told`). */
export function recordReturnDecision(
  state: TicketState,
  outcome: 'approved' | 'rejected',
  reason: string | undefined,
  { nowMs, actor }: ReturnContext,
  change: TicketChange,
  told: Record<string, unknown> = {},
): void {
  const returnCase = state.returnCase;
  if (!returnCase) return;
  meetClock(state, 'returnApproval', nowMs);
  returnCase.decision = { outcome, at: iso(nowMs), actor, ...(reason ? { reason } : {}) };
  if (outcome === 'rejected') {
    appendEvent(state, change, 'return_rejected', nowMs, actor, { kind: returnCase.kind, reason });
  }
  appendNotification(state, change, {
    kind: 'return_decided',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { kind: returnCase.kind, outcome, ...told },
  });
}

/** A return request (on a ticket opened with return requests) whose approval brings the product back. */
export function isReturnToShipBack(state: TicketState): boolean {
  return state.returnCase?.kind === 'return' && isAwaitingDecision(state.returnCase);
}

/**
 * The customer's ship-back window starts, with its reminder at half the window. Returns when the
 * product is due, for the customer's notice.
 */
export function startShipBack(
  state: TicketState,
  { nowMs, actor, policy }: ReturnContext,
  change: TicketChange,
): string {
  const returnCase = state.returnCase as ReturnCase;
  state.status = 'returning';
  returnCase.shipment = null;
  returnCase.receipt = null;
  returnCase.inspections = [];
  returnCase.refund = null;
  const window = startClock(state, 'shipBack', nowMs, policy);
  const halfMs = nowMs + Math.floor((Date.parse(window.dueAt) - nowMs) / 2);
  const reminder = startClock(state, 'shipBackReminder', nowMs, policy, halfMs);
  appendEvent(state, change, 'ship_back_due', nowMs, actor, {
    dueAt: window.dueAt,
    reminderAt: reminder.dueAt,
  });
  return window.dueAt;
}

function stopShipBack(state: TicketState, nowMs: number): void {
  meetClock(state, 'shipBack', nowMs);
  meetClock(state, 'shipBackReminder', nowMs);
}

export function recordShipment(
  state: TicketState,
  input: ActionInput<'ship-back'>,
  { nowMs, actor }: ReturnContext,
  change: TicketChange,
): void {
  const returnCase = state.returnCase as ReturnCase;
  returnCase.shipment = { ...input, at: iso(nowMs) };
  stopShipBack(state, nowMs);
  appendEvent(state, change, 'return_shipped', nowMs, actor, { ...input });
  // The warehouse (the parts group) expects the parcel.
  if (state.returnWaitClocks) {
    appendNotification(state, change, {
      kind: 'return_inbound',
      recipientRole: 'parts',
      channel: 'internal',
      nowMs,
      data: { carrier: input.carrier, trackingNumber: input.trackingNumber },
    });
  }
}

/** Logistics signed for the product: it waits for inspection (the inspection clock starts). */
export function recordReceipt(
  state: TicketState,
  input: ActionInput<'receive-return'>,
  context: ReturnContext,
  change: TicketChange,
): void {
  const { nowMs, actor } = context;
  const returnCase = state.returnCase as ReturnCase;
  state.status = 'inspecting';
  returnCase.receipt = { signedBy: input.signedBy, at: iso(nowMs), actor };
  stopShipBack(state, nowMs);
  const inspectionDueAt = startWait(state, 'returnInspection', context);
  appendEvent(state, change, 'return_received', nowMs, actor, {
    ...input,
    ...(inspectionDueAt ? { inspectionDueAt } : {}),
  });
  appendNotification(state, change, {
    kind: 'return_received',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: {},
  });
}

/** Finance owes the refund: its clock starts. */
function startRefund(state: TicketState, { nowMs, policy }: ReturnContext): string {
  state.status = 'refunding';
  return startClock(state, 'refund', nowMs, policy).dueAt;
}

function notifyFinance(state: TicketState, nowMs: number, dueAt: string, change: TicketChange): void {
  appendNotification(state, change, {
    kind: 'refund_due',
    recipientRole: 'finance',
    channel: 'internal',
    nowMs,
    data: { dueAt },
  });
}

/** Appearance and function both pass: refund; either fails: negotiate with the customer. */
export function recordInspection(
  state: TicketState,
  input: ActionInput<'inspect-return'>,
  context: ReturnContext,
  change: TicketChange,
): void {
  const { nowMs, actor } = context;
  const returnCase = state.returnCase as ReturnCase;
  const passed = input.appearance === 'pass' && input.function === 'pass';
  meetClock(state, 'returnInspection', nowMs);
  returnCase.inspections = [
    ...(returnCase.inspections ?? []),
    { appearance: input.appearance, function: input.function, passed, at: iso(nowMs), actor },
  ];
  if (passed) {
    const refundDueAt = startRefund(state, context);
    appendEvent(state, change, 'return_inspected', nowMs, actor, { ...input, passed, refundDueAt });
    notifyFinance(state, nowMs, refundDueAt, change);
    return;
  }
  state.status = 'negotiating';
  const settleDueAt = startWait(state, 'returnNegotiation', context);
  appendEvent(state, change, 'return_inspected', nowMs, actor, {
    ...input,
    passed,
    ...(settleDueAt ? { settleDueAt } : {}),
  });
  appendNotification(state, change, {
    kind: 'return_inspection_failed',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { appearance: input.appearance, function: input.function },
  });
}

/** Finance refunded through the original payment method; the caller closes the ticket. */
/** Seed 003: finance refunds through the original payment method, when the request recorded it. */
export function refundMethodRefusal(state: TicketState, input: ActionInput<'refund'>): string | undefined {
  const paidWith = state.returnCase?.paidWith;
  return paidWith === undefined || input.method === paidWith
    ? undefined
    : `method must be the original payment method, ${paidWith}: the refund goes back the way the customer paid`;
}

export function recordRefund(
  state: TicketState,
  input: ActionInput<'refund'>,
  { nowMs, actor }: ReturnContext,
  change: TicketChange,
): void {
  const returnCase = state.returnCase as ReturnCase;
  returnCase.refund = { ...input, at: iso(nowMs), actor };
  meetClock(state, 'refund', nowMs);
  appendEvent(state, change, 'refunded', nowMs, actor, { ...input });
  appendNotification(state, change, {
    kind: 'refund_issued',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { amountFen: input.amountFen, method: input.method },
  });
}

/**
 * What was agreed after a failed inspection. Returns true when the ticket is done (the product goes
 * back to the customer: the caller closes it); a refund after all goes to finance.
 */
export function recordSettlement(
  state: TicketState,
  input: ActionInput<'settle-return'>,
  context: ReturnContext,
  change: TicketChange,
): boolean {
  meetClock(state, 'returnNegotiation', context.nowMs);
  if (input.outcome !== 'refund') {
    appendEvent(state, change, 'return_settled', context.nowMs, context.actor, { ...input });
    return true;
  }
  const refundDueAt = startRefund(state, context);
  appendEvent(state, change, 'return_settled', context.nowMs, context.actor, { ...input, refundDueAt });
  notifyFinance(state, context.nowMs, refundDueAt, change);
  return false;
}

/** Half the ship-back window passed: the customer is reminded. */
export function remindShipBack(state: TicketState, nowMs: number, change: TicketChange): void {
  appendNotification(state, change, {
    kind: 'ship_back_reminder',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { dueAt: state.clocks.shipBack?.dueAt },
  });
}

/** The window passed without the product: the return is cancelled and the customer told. */
export function lapseReturn(state: TicketState, nowMs: number, change: TicketChange): void {
  const missedDeadline = state.clocks.shipBack?.dueAt;
  state.status = 'cancelled';
  for (const clock of Object.values(state.clocks)) {
    if (clock && clock.metAt === null && clock.breachedAt === null) clock.metAt = iso(nowMs);
  }
  appendEvent(state, change, 'return_lapsed', nowMs, null, { missedDeadline });
  appendNotification(state, change, {
    kind: 'return_lapsed',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { missedDeadline },
  });
  appendEvent(state, change, 'cancelled', nowMs, null, { reason: 'ship_back_window_lapsed' });
}

/** An exchange request whose approval sends a replacement (and takes the unit back). */
export function isExchangeToReplace(state: TicketState): boolean {
  return state.returnCase?.kind === 'exchange' && isAwaitingDecision(state.returnCase);
}

/** The parts group is told to ship a replacement, by the replacement shipment clock's deadline. */
function askForReplacement(
  state: TicketState,
  context: ReturnContext,
  round: number,
  change: TicketChange,
): void {
  const dueAt = startWait(state, 'replacementShipment', context);
  appendNotification(state, change, {
    kind: 'replacement_needed',
    recipientRole: 'parts',
    channel: 'internal',
    nowMs: context.nowMs,
    data: { round, ...(dueAt ? { dueAt } : {}) },
  });
}

/** The parts group is told to reserve and ship a replacement; the unit is to be taken back. */
export function startExchange(state: TicketState, context: ReturnContext, change: TicketChange): void {
  const returnCase = state.returnCase as ReturnCase;
  state.status = 'exchanging';
  returnCase.replacements = [];
  returnCase.returnedUnit = null;
  askForReplacement(state, context, 1, change);
}

/** The round a replacement shipped now belongs to. */
export function nextReplacementRound(state: TicketState): number {
  return (state.returnCase?.replacements?.length ?? 0) + 1;
}

export function recordReplacementShipped(
  state: TicketState,
  input: ActionInput<'ship-replacement'>,
  context: ReturnContext,
  change: TicketChange,
): void {
  const { nowMs, actor } = context;
  const returnCase = state.returnCase as ReturnCase;
  const round = nextReplacementRound(state);
  returnCase.replacements = [
    ...(returnCase.replacements ?? []),
    { round, ...input, shippedAt: iso(nowMs), accepted: null },
  ];
  state.status = 'replacement_shipped';
  // The replacement was in stock after all: no more waiting for it.
  meetClock(state, 'partsWait', nowMs);
  meetClock(state, 'replacementShipment', nowMs);
  // The customer's answer is awaited now.
  const answerDueAt = startWait(state, 'replacementConfirmation', context);
  appendEvent(state, change, 'replacement_shipped', nowMs, actor, {
    round,
    ...input,
    ...(answerDueAt ? { answerDueAt } : {}),
  });
  appendNotification(state, change, {
    kind: 'replacement_shipped',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { carrier: input.carrier, trackingNumber: input.trackingNumber },
  });
}

/**
 * The customer's answer. Accepted: done once the unit is back (returns true: the caller closes the
 * ticket); refused: a new round, the parts group told.
 */
export function recordReplacementAnswer(
  state: TicketState,
  input: ActionInput<'confirm-replacement'>,
  context: ReturnContext,
  change: TicketChange,
): boolean {
  const { nowMs, actor } = context;
  const returnCase = state.returnCase as ReturnCase;
  const current = returnCase.replacements?.at(-1);
  if (current) current.accepted = input.accepted;
  meetClock(state, 'replacementConfirmation', nowMs);
  appendEvent(state, change, 'replacement_confirmed', nowMs, actor, { round: current?.round, ...input });
  if (!input.accepted) {
    state.status = 'exchanging';
    // A refused replacement costs a new round: the supervisor hears of it, the parts group ships again.
    if (state.returnWaitClocks)
      tellReplacementAnswer(state, 'supervisor', context, change, { round: current?.round, accepted: false });
    askForReplacement(state, context, nextReplacementRound(state), change);
    return false;
  }
  if (returnCase.returnedUnit) return true;
  state.status = 'awaiting_unit';
  const unitDueAt = startWait(state, 'unitReturn', context);
  // The parts group takes the unit back.
  if (unitDueAt)
    tellReplacementAnswer(state, 'parts', context, change, {
      round: current?.round,
      accepted: true,
      unitDueAt,
    });
  return false;
}

function tellReplacementAnswer(
  state: TicketState,
  recipientRole: 'parts' | 'supervisor',
  { nowMs }: ReturnContext,
  change: TicketChange,
  data: Record<string, unknown>,
): void {
  appendNotification(state, change, {
    kind: 'replacement_answered',
    recipientRole,
    channel: 'internal',
    nowMs,
    data,
  });
}

/** The unit taken back is booked into stock; returns true when that completes the exchange. */
export function recordReturnedUnit(
  state: TicketState,
  input: ActionInput<'receive-unit'>,
  { nowMs, actor }: ReturnContext,
  change: TicketChange,
): boolean {
  const returnCase = state.returnCase as ReturnCase;
  const { note, ...unit } = input;
  returnCase.returnedUnit = { ...unit, at: iso(nowMs), actor };
  meetClock(state, 'unitReturn', nowMs);
  appendEvent(state, change, 'unit_received', nowMs, actor, { ...unit, ...(note ? { note } : {}) });
  // Quality control inspects the unit taken back.
  if (state.returnWaitClocks) {
    appendNotification(state, change, {
      kind: 'unit_to_inspect',
      recipientRole: 'qc',
      channel: 'internal',
      nowMs,
      data: { ...unit },
    });
  }
  return state.status === 'awaiting_unit';
}
