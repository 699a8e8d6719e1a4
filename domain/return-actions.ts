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
import type { Actor, TicketChange, TicketState } from './ticket';
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

/** The manager's decision: the approval clock stops and the customer is told. */
export function recordReturnDecision(
  state: TicketState,
  outcome: 'approved' | 'rejected',
  reason: string | undefined,
  { nowMs, actor }: ReturnContext,
  change: TicketChange,
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
    data: { kind: returnCase.kind, outcome },
  });
}
