import type { ClockName, Role, TicketState } from './ticket';

/**
 * Who is told (seed 002: 提醒责任人及上级): the person a notice names when one is known, with a
 * role's inbox as the fallback. Pure: the lifecycle names the person, the relay finds their channel.
 */
export interface Recipient {
  readonly role: Role;
  /** A staff member's id (an engineer's id for an engineer); null: the role's inbox. */
  readonly personId: string | null;
}

/**
 * Who holds a clock's work: `worker` is the engineer the ticket is with, else whoever acknowledged
 * it; `acknowledger` only the latter; `role` no one person (a role's own duty). `role` is also the
 * fallback when the person is not known (nobody acknowledged yet, a ticket opened before this
 * was recorded).
 */
const HOLDERS: Readonly<
  Record<ClockName, { readonly person: 'worker' | 'acknowledger' | null; readonly role: Role }>
> = {
  firstResponse: { person: null, role: 'agent' },
  plan: { person: 'acknowledger', role: 'supervisor' },
  criticalTemporaryPlan: { person: 'acknowledger', role: 'supervisor' },
  dispatchAccept: { person: 'worker', role: 'supervisor' },
  customerContact: { person: 'worker', role: 'supervisor' },
  appointmentReminder: { person: 'worker', role: 'engineer' },
  resolution: { person: 'worker', role: 'supervisor' },
  callback: { person: 'acknowledger', role: 'agent' },
  complaintFollowUp: { person: null, role: 'supervisor' },
  directorPlan: { person: null, role: 'director' },
  reopenWindow: { person: null, role: 'agent' },
  partsWait: { person: 'worker', role: 'parts' },
  partsApproval: { person: null, role: 'manager' },
  planDeadline: { person: 'worker', role: 'supervisor' },
  returnApproval: { person: null, role: 'manager' },
  // The customer's to meet: its notices go to the customer; the desk holds the ticket meanwhile.
  shipBack: { person: null, role: 'agent' },
  shipBackReminder: { person: null, role: 'agent' },
  refund: { person: null, role: 'finance' },
  quoteExpiry: { person: 'worker', role: 'agent' },
  remedyApproval: { person: null, role: 'manager' },
  // The person the failed review named holds it (`holderOf`); the supervisor's inbox stands in.
  rectification: { person: null, role: 'supervisor' },
  // The parts group ships a replacement and takes the unit in; qc inspects a return.
  replacementShipment: { person: null, role: 'parts' },
  // The customer's to answer or send back: the desk holds the ticket meanwhile, as for `shipBack`.
  replacementConfirmation: { person: null, role: 'agent' },
  unitReturn: { person: null, role: 'agent' },
  returnInspection: { person: null, role: 'qc' },
  // Whoever took the ticket negotiates with the customer.
  returnNegotiation: { person: 'acknowledger', role: 'agent' },
  // The engineer who did the work collects; finance when none is known.
  payment: { person: 'worker', role: 'finance' },
};

/** The person holding a clock's work now, or the role whose inbox stands in for them. */
export function holderOf(state: TicketState, clock: ClockName): Recipient {
  // A plan that names its owner (the manager's meeting plan) is theirs to carry out.
  const owner = clock === 'planDeadline' ? state.plans.at(-1)?.input.owner : undefined;
  if (typeof owner === 'string') return { role: 'supervisor', personId: owner };
  // A rectification is the person's the failed review named.
  const rectifier = clock === 'rectification' ? state.rectification?.responsible : undefined;
  if (rectifier) return { role: rectifier.role, personId: rectifier.id };
  const rule = HOLDERS[clock];
  if (rule.person === 'worker' && state.assignee !== null) {
    return { role: 'engineer', personId: state.assignee };
  }
  const acknowledged = rule.person === null ? undefined : state.acknowledgedBy;
  return acknowledged
    ? { role: acknowledged.role, personId: acknowledged.id }
    : { role: rule.role, personId: null };
}

/** A recipient as notification data names it: the person's id when one is known. */
export function personData(recipient: Recipient): { personId?: string } {
  return recipient.personId === null ? {} : { personId: recipient.personId };
}
