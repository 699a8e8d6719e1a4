import { DateTime } from 'luxon';
import type { ActionInput } from './action-inputs';
import { meetClock, startClock } from './clocks';
import { DEFAULT_MONEY_RULES, remedyNeedsApproval, type Remedy } from './money';
import type { SlaPolicy } from './policy';
import type { Actor, TicketChange, TicketState } from './ticket';
import { appendEvent, appendNotification } from './timeline';

/**
 * Remedies for a dissatisfied customer (seed 004: a voucher, a free re-check; seed 000: a gifted
 * part, extended warranty), offered on a complaint's follow-up; above the policy's value a manager
 * approves first, within the remedy approval clock.
 */
interface RemedyContext {
  readonly nowMs: number;
  readonly actor: Actor;
  readonly policy: SlaPolicy;
}

const iso = (ms: number) => new Date(ms).toISOString();

const pendingRemedy = (state: TicketState) =>
  state.remedies?.find((remedy) => remedy.status === 'awaiting_approval');

export function offerRemedyRefusal(state: TicketState): string | undefined {
  if (state.remedies === undefined) return 'this ticket was opened before remedies';
  return pendingRemedy(state) ? 'a remedy is already waiting for a manager' : undefined;
}

export function decideRemedyRefusal(state: TicketState): string | undefined {
  return pendingRemedy(state) ? undefined : 'no remedy is waiting for a manager';
}

/** A granted extension moves the warranty's end by its months and tells the customer. */
function grant(state: TicketState, remedy: Remedy, nowMs: number, change: TicketChange): void {
  remedy.status = 'granted';
  if (remedy.kind === 'extended_warranty' && remedy.months && state.warranty.expiresOn) {
    state.warranty = {
      ...state.warranty,
      expiresOn: DateTime.fromISO(state.warranty.expiresOn).plus({ months: remedy.months }).toISODate(),
    };
  }
  appendEvent(state, change, 'remedy_granted', nowMs, null, {
    remedyId: remedy.id,
    kind: remedy.kind,
    valueFen: remedy.valueFen,
    ...(remedy.kind === 'extended_warranty' ? { warrantyExpiresOn: state.warranty.expiresOn } : {}),
  });
  appendNotification(state, change, {
    kind: 'remedy_granted',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: {
      kind: remedy.kind,
      valueFen: remedy.valueFen,
      ...(remedy.months ? { months: remedy.months } : {}),
    },
  });
}

export function recordRemedyOffer(
  state: TicketState,
  input: ActionInput<'offer-remedy'>,
  { nowMs, actor, policy }: RemedyContext,
  change: TicketChange,
): void {
  const { note, ...offer } = input;
  const remedy: Remedy = {
    id: (state.remedies?.length ?? 0) + 1,
    ...offer,
    status: 'awaiting_approval',
    offeredAt: iso(nowMs),
    offeredBy: actor.id,
    decidedAt: null,
    decidedBy: null,
  };
  state.remedies = [...(state.remedies ?? []), remedy];
  const threshold = policy.remedyApprovalFen ?? DEFAULT_MONEY_RULES.remedyApprovalFen;
  const needsApproval = remedyNeedsApproval(remedy.valueFen, threshold);
  const dueAt = needsApproval ? startClock(state, 'remedyApproval', nowMs, policy).dueAt : undefined;
  appendEvent(state, change, 'remedy_offered', nowMs, actor, {
    remedyId: remedy.id,
    ...offer,
    ...(note ? { note } : {}),
    needsApproval,
    ...(dueAt ? { approvalDueAt: dueAt } : {}),
  });
  if (!needsApproval) {
    grant(state, remedy, nowMs, change);
    return;
  }
  appendNotification(state, change, {
    kind: 'remedy_approval_needed',
    recipientRole: 'manager',
    channel: 'internal',
    nowMs,
    data: { kind: remedy.kind, valueFen: remedy.valueFen, thresholdFen: threshold, dueAt },
  });
}

export function recordRemedyDecision(
  state: TicketState,
  input: ActionInput<'decide-remedy'>,
  { nowMs, actor }: RemedyContext,
  change: TicketChange,
): void {
  const remedy = pendingRemedy(state) as Remedy;
  meetClock(state, 'remedyApproval', nowMs);
  remedy.decidedAt = iso(nowMs);
  remedy.decidedBy = actor.id;
  if (input.reason) remedy.reason = input.reason;
  appendEvent(state, change, 'remedy_decided', nowMs, actor, { remedyId: remedy.id, ...input });
  if (input.approved) grant(state, remedy, nowMs, change);
  else remedy.status = 'rejected';
}
