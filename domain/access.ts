import type { ActionInput, ActionName } from './action-inputs';
import { ROLES, type Actor, type Role, type TicketState } from './ticket';

/**
 * Who may do what (the role table in docs/api.md is this object). Reads are further scoped: a
 * client sees the tickets it created, an engineer the tickets assigned to it, an agent under a
 * ticket's `agentScope: "own"` its own tickets and the unacknowledged ones (ticketScope).
 */
export type Permission =
  | 'ticket.create'
  | 'ticket.read'
  | 'engineer.read'
  | 'engineer.manage'
  | 'staff.read'
  | 'staff.manage'
  | 'escalation.read'
  | 'plan.director'
  | 'plan.meeting'
  | 'webhook.manage'
  | 'report.read'
  | 'part.read'
  | 'part.manage'
  | 'stock.read'
  | 'stock.move'
  | 'stock.approve'
  | 'parts.request'
  | 'report.parts'
  | 'report.monthly'
  | ActionName;

const OPERATORS: readonly Role[] = ['supervisor', 'manager', 'director', 'admin'];

export const PERMISSIONS: Readonly<Record<Permission, readonly Role[]>> = {
  'ticket.create': ['client', 'agent', 'supervisor', 'manager', 'admin'],
  // Every role reads tickets: the parts group those parts are requested for, with the customer's data masked.
  'ticket.read': ROLES,
  'engineer.read': ['agent', ...OPERATORS],
  'engineer.manage': ['supervisor', 'manager', 'admin'],
  // Staff contact channels and superiors: whom escalations reach (seed 002).
  'staff.read': OPERATORS,
  'staff.manage': ['manager', 'admin'],
  'escalation.read': ['agent', 'qc', ...OPERATORS],
  'plan.director': ['director', 'admin'],
  // The operations manager's meeting on a major complaint (seed 003: 售后运营经理).
  'plan.meeting': ['manager', 'director', 'admin'],
  'webhook.manage': ['manager', 'admin'],
  'report.read': ['qc', ...OPERATORS],
  // The parts group (配件管理组) keeps the catalogue and the stock; the manager approves scrapping.
  'part.read': ['agent', 'engineer', 'parts', ...OPERATORS],
  'part.manage': ['parts', 'manager', 'admin'],
  'stock.read': ['engineer', 'parts', ...OPERATORS],
  'stock.move': ['parts', 'manager', 'admin'],
  'stock.approve': ['manager', 'admin'],
  'parts.request': ['agent', 'engineer', 'parts', ...OPERATORS],
  'report.parts': ['qc', 'parts', ...OPERATORS],
  // Producing (or backfilling) a month's report: the managers it goes to, the director above them.
  'report.monthly': ['manager', 'director', 'admin'],
  acknowledge: ['agent', ...OPERATORS],
  classify: ['agent', ...OPERATORS],
  plan: ['agent', ...OPERATORS],
  assign: OPERATORS,
  accept: ['engineer', ...OPERATORS],
  decline: ['engineer', ...OPERATORS],
  schedule: ['agent', 'engineer', ...OPERATORS],
  start: ['engineer', ...OPERATORS],
  'go-onsite': ['engineer', 'agent', ...OPERATORS],
  resolve: ['agent', 'engineer', ...OPERATORS],
  'qc-review': ['qc', ...OPERATORS],
  // QC verifies a failed review's rectification (seed 000: 质量检查专员); finance and operators cost complaints.
  'record-rectification': ['qc', ...OPERATORS],
  'record-handling-cost': ['finance', ...OPERATORS],
  callback: ['agent', ...OPERATORS],
  'follow-up': OPERATORS,
  'request-return': ['agent', ...OPERATORS],
  approve: ['manager', 'director', 'admin'],
  reject: ['manager', 'director', 'admin'],
  // The customer's app may say it shipped; logistics (the parts group's warehouse) signs for it;
  // the service group inspects; finance refunds (seed 003).
  'ship-back': ['client', 'agent', ...OPERATORS],
  'receive-return': ['agent', 'parts', ...OPERATORS],
  'inspect-return': ['agent', 'qc', ...OPERATORS],
  refund: ['finance', 'manager', 'admin'],
  'settle-return': ['agent', ...OPERATORS],
  // The parts group ships the replacement and books the unit taken back; the customer (or its app)
  // accepts the replacement.
  'ship-replacement': ['parts', ...OPERATORS],
  'confirm-replacement': ['client', 'agent', ...OPERATORS],
  'receive-unit': ['parts', ...OPERATORS],
  // The engineer (or the desk) quotes from the price list; the customer (or its app) consents.
  quote: ['agent', 'engineer', ...OPERATORS],
  consent: ['client', 'agent', ...OPERATORS],
  // The engineer takes the payment on site; finance (or the desk) sends the e-invoice.
  'record-payment': ['engineer', 'finance', 'agent', ...OPERATORS],
  'send-invoice': ['finance', 'agent', ...OPERATORS],
  // The after-sales supervisor offers a remedy on a follow-up; above the policy's value a manager decides.
  'offer-remedy': OPERATORS,
  'decide-remedy': ['manager', 'director', 'admin'],
  hold: ['agent', 'engineer', ...OPERATORS],
  resume: ['agent', 'engineer', ...OPERATORS],
  reopen: ['agent', ...OPERATORS],
  cancel: ['agent', ...OPERATORS],
  close: ['agent', ...OPERATORS],
  'escalation-ack': OPERATORS,
  note: ['agent', 'engineer', 'qc', ...OPERATORS],
};

export function can(role: Role, permission: Permission): boolean {
  return PERMISSIONS[permission].includes(role);
}

/**
 * Which tickets an actor may see at all: everything, only its own, or (an agent) as each ticket's
 * `agentScope` says (see agentMaySee).
 */
export type TicketScope =
  | { kind: 'all' }
  | { kind: 'createdBy'; actorId: string }
  | { kind: 'assignee'; actorId: string }
  | { kind: 'agent'; actorId: string };

export function ticketScope(actor: Actor): TicketScope {
  if (actor.role === 'client') return { kind: 'createdBy', actorId: actor.id };
  if (actor.role === 'engineer') return { kind: 'assignee', actorId: actor.id };
  if (actor.role === 'agent') return { kind: 'agent', actorId: actor.id };
  return { kind: 'all' };
}

/** The ticket fields the read rule of `agentScope: "own"` looks at (db/ticket-store.ts asks them in SQL). */
export type AgentScopedTicket = Pick<TicketState, 'agentScope' | 'acknowledgedBy' | 'assignee'>;

/**
 * Seed 002 (客服仅可查看/编辑负责工单): on a ticket opened under `agentScope: "own"` an agent sees it
 * while nobody has acknowledged it yet (the agents' queue: it must see a new ticket to take it), once
 * it acknowledged it, and while it is assigned to it; another agent's ticket it does not see at all.
 * A ticket opened under `agentScope: "all"` (the default) every agent sees.
 */
export function agentMaySee(ticket: AgentScopedTicket, agentId: string): boolean {
  if (ticket.agentScope !== 'own' || ticket.acknowledgedBy === undefined) return true;
  return ticket.acknowledgedBy.id === agentId || ticket.assignee === agentId;
}

export function isInScope(state: TicketState, scope: TicketScope): boolean {
  if (scope.kind === 'createdBy') return state.createdBy.id === scope.actorId;
  if (scope.kind === 'assignee') return state.assignee === scope.actorId;
  if (scope.kind === 'agent') return agentMaySee(state, scope.actorId);
  return true;
}

/** The rule `agentScope: "own"` names in its refusals. */
export const AGENT_OWN_TICKETS_ONLY =
  'agentScope "own": an agent acts only on the tickets it acknowledged or is assigned';

const OUT_OF_SCOPE: Record<Exclude<TicketScope['kind'], 'all'>, string> = {
  createdBy: 'a client acts only on the tickets it created',
  assignee: 'an engineer acts only on the tickets assigned to it',
  agent: AGENT_OWN_TICKETS_ONLY,
};

/**
 * Under `agentScope: "own"` an agent acts on the tickets it sees (agentMaySee) with one limit: a
 * ticket nobody acknowledged yet it may only acknowledge (taking it as its own).
 */
function agentMayAct(state: TicketState, action: ActionName, actor: Actor): boolean {
  if (state.agentScope !== 'own' || actor.role !== 'agent') return true;
  return state.acknowledgedBy !== undefined || action === 'acknowledge';
}

/**
 * Why the actor may not take this action on the ticket as it stands, or null when it may: the role
 * table, the actor's scope (an engineer acts on its own tickets only; an agent too under the ticket's
 * `agentScope: "own"`) and the director's plan. One
 * rule for both doors: the API asks it of the PostgreSQL projection before it sends the Update, and
 * the ticket's workflow asks it of its own state in the Update's validator, so a direct Temporal call
 * obeys the same table and an engineer who lost the ticket a moment ago is refused even while the
 * projection still names it. `input` is the parsed input, or undefined when it did not parse.
 */
export function authorizeAction<A extends ActionName>(
  state: TicketState,
  action: A,
  input: ActionInput<A> | undefined,
  actor: Actor,
): string | null {
  if (!ROLES.includes(actor.role)) return `the actor's role is not one of ${ROLES.join(', ')}`;
  if (!can(actor.role, action)) return `role ${actor.role} may not ${action} tickets`;
  const scope = ticketScope(actor);
  if (scope.kind !== 'all' && !isInScope(state, scope)) return OUT_OF_SCOPE[scope.kind];
  if (!agentMayAct(state, action, actor)) return AGENT_OWN_TICKETS_ONLY;
  if (
    action === 'plan' &&
    (input as ActionInput<'plan'> | undefined)?.kind === 'director' &&
    !can(actor.role, 'plan.director')
  ) {
    return `role ${actor.role} may not record the director's plan`;
  }
  if (
    action === 'plan' &&
    (input as ActionInput<'plan'> | undefined)?.kind === 'meeting' &&
    !can(actor.role, 'plan.meeting')
  ) {
    return `role ${actor.role} may not record the manager's meeting plan`;
  }
  return null;
}

/** Whose stock an actor sees: every location's, or only the van of the engineer it is. */
export type StockScope = { kind: 'all' } | { kind: 'van'; engineerId: string };

export function stockScope(actor: Actor): StockScope {
  return actor.role === 'engineer' ? { kind: 'van', engineerId: actor.id } : { kind: 'all' };
}

/** Roles that see customers' personal data in clear in API answers; the others get it masked. */
const PERSONAL_DATA_ROLES: readonly Role[] = ['agent', 'engineer', ...OPERATORS];

export function maySeePersonalData(role: Role): boolean {
  return PERSONAL_DATA_ROLES.includes(role);
}

/**
 * Roles that see what staff wrote and who did it (notes, reasons, diagnoses, staff and engineer ids):
 * everyone on the staff, qc included (reviewing service records, callbacks and notes is its work).
 * A client, an outside party, sees the ticket's progress without them (see externalView).
 */
export function maySeeStaffNotes(role: Role): boolean {
  return role !== 'client';
}

/** Roles that may decrypt whole Temporal histories through the codec endpoint. */
export function mayUseCodec(role: Role): boolean {
  return OPERATORS.includes(role);
}
