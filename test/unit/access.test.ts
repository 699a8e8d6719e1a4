import { describe, expect, it } from 'vitest';
import {
  AGENT_OWN_TICKETS_ONLY,
  agentMaySee,
  authorizeAction,
  can,
  isInScope,
  ticketScope,
} from '../../domain/access';
import { ACTION_NAMES, applyAction, openTicket, type ActionInput } from '../../domain/lifecycle';
import type { SlaPolicy } from '../../domain/policy';
import { ROLES, type Actor, type Role, type TicketState } from '../../domain/ticket';
import { AGENT, intake, policy, SUPERVISOR, TEST_CUSTOMER_ID } from '../support/fixtures';

/**
 * `authorizeAction`: the one rule the API and the ticket's workflow (its Update validators) both
 * ask, as a pure function of the ticket and the actor.
 */
const T0 = Date.parse('2026-11-23T02:00:00Z');
const defaults = policy({ qcSampleRate: 0 });
const plan = { measures: 'Replace the relay', department: 'field-service', customerConfirmed: true };

/** A ticket offered to `eng-1` by hand. */
function assignedTicket(): TicketState {
  const state = openTicket({
    number: 'WO20261123-001',
    intake: intake(),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: { id: 'shop-app', role: 'client' },
    createdAtMs: T0,
    policy: defaults,
  });
  const context = (actor: Actor) => ({ nowMs: T0, actor, policy: defaults });
  applyAction(state, 'acknowledge', {}, context(AGENT));
  applyAction(state, 'plan', { ...plan, kind: 'service', dispatch: false }, context(SUPERVISOR));
  applyAction(state, 'assign', { engineerId: 'eng-1' }, context(SUPERVISOR));
  return state;
}

const directorPlan: ActionInput<'plan'> = { ...plan, kind: 'director', dispatch: true };

describe('authorizeAction', () => {
  it('follows the role table for every role and action', () => {
    const ticket = assignedTicket();
    for (const role of ROLES.filter((role) => role !== 'engineer')) {
      for (const action of ACTION_NAMES) {
        const allowed = role === 'client' ? 'a client acts only on the tickets it created' : null;
        expect(authorizeAction(ticket, action, undefined, { id: `${role}-1`, role })).toBe(
          can(role, action) ? allowed : `role ${role} may not ${action} tickets`,
        );
      }
    }
  });

  it('refuses a client every lifecycle action but a return’s ship-back and the customer’s answers (replacement, quote), even on the ticket it created', () => {
    expect(ACTION_NAMES.filter((action) => can('client', action))).toEqual([
      'ship-back',
      'confirm-replacement',
      'consent',
    ]);
    const client: Actor = { id: 'shop-app', role: 'client' };
    expect(authorizeAction(assignedTicket(), 'resolve', undefined, client)).toBe(
      'role client may not resolve tickets',
    );
    expect(authorizeAction(assignedTicket(), 'cancel', undefined, client)).toBe(
      'role client may not cancel tickets',
    );
  });

  it('lets an engineer act only on the ticket assigned to it', () => {
    const ticket = assignedTicket();
    expect(authorizeAction(ticket, 'accept', {}, { id: 'eng-1', role: 'engineer' })).toBeNull();
    expect(authorizeAction(ticket, 'accept', {}, { id: 'eng-2', role: 'engineer' })).toBe(
      'an engineer acts only on the tickets assigned to it',
    );
    // The role comes first: what an engineer may never do is refused for the role, not the scope.
    expect(authorizeAction(ticket, 'cancel', undefined, { id: 'eng-2', role: 'engineer' })).toBe(
      'role engineer may not cancel tickets',
    );
  });

  it('refuses the engineer who lost the ticket to a reassignment', () => {
    const ticket = assignedTicket();
    applyAction(
      ticket,
      'assign',
      { engineerId: 'eng-2' },
      { nowMs: T0, actor: SUPERVISOR, policy: defaults },
    );
    expect(authorizeAction(ticket, 'accept', {}, { id: 'eng-1', role: 'engineer' })).toBe(
      'an engineer acts only on the tickets assigned to it',
    );
    expect(authorizeAction(ticket, 'accept', {}, { id: 'eng-2', role: 'engineer' })).toBeNull();
  });

  it('keeps the director’s plan to directors and admins, whatever else the role may plan', () => {
    const ticket = assignedTicket();
    const allowed = ROLES.filter(
      (role) => authorizeAction(ticket, 'plan', directorPlan, { id: `${role}-1`, role }) === null,
    );
    expect(allowed).toEqual(['director', 'admin']);
    expect(authorizeAction(ticket, 'plan', directorPlan, SUPERVISOR)).toBe(
      "role supervisor may not record the director's plan",
    );
    expect(authorizeAction(ticket, 'plan', { ...directorPlan, kind: 'service' }, SUPERVISOR)).toBeNull();
  });

  it('refuses a role that is not one, without echoing it', () => {
    const made = { id: 'x', role: 'superuser' as Role };
    const why = authorizeAction(assignedTicket(), 'resolve', undefined, made);
    expect(why).toBe(`the actor's role is not one of ${ROLES.join(', ')}`);
    expect(
      authorizeAction(assignedTicket(), 'note', undefined, { id: 'x', role: 'constructor' as Role }),
    ).toBe(why);
  });
});

describe('agentScope "own" (seed 002: 客服仅可查看/编辑负责工单)', () => {
  const ownPolicy = policy({ qcSampleRate: 0, agentScope: 'own' });
  const OTHER_AGENT: Actor = { id: 'agent-8', role: 'agent' };
  const context = (actor: Actor) => ({ nowMs: T0, actor, policy: ownPolicy });

  function openedUnder(slaPolicy: SlaPolicy): TicketState {
    return openTicket({
      number: 'WO20261123-002',
      intake: intake(),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: T0,
      policy: slaPolicy,
    });
  }

  it('is copied onto tickets opened under it, and only those', () => {
    expect(openedUnder(ownPolicy).agentScope).toBe('own');
    expect(openedUnder(defaults).agentScope).toBeUndefined();
  });

  it('lets any agent take a ticket nobody acknowledged yet, but do nothing else to it', () => {
    const ticket = openedUnder(ownPolicy);
    expect(authorizeAction(ticket, 'acknowledge', {}, OTHER_AGENT)).toBeNull();
    expect(authorizeAction(ticket, 'note', undefined, OTHER_AGENT)).toBe(AGENT_OWN_TICKETS_ONLY);
    expect(authorizeAction(ticket, 'cancel', undefined, OTHER_AGENT)).toBe(AGENT_OWN_TICKETS_ONLY);
  });

  it('lets the agent who acknowledged the ticket act on it, and refuses every other agent, naming the rule', () => {
    const ticket = openedUnder(ownPolicy);
    applyAction(ticket, 'acknowledge', {}, context(AGENT));
    expect(authorizeAction(ticket, 'plan', { ...plan, kind: 'service', dispatch: false }, AGENT)).toBeNull();
    expect(authorizeAction(ticket, 'note', undefined, OTHER_AGENT)).toBe(
      'agentScope "own": an agent acts only on the tickets it acknowledged or is assigned',
    );
    expect(authorizeAction(ticket, 'cancel', undefined, OTHER_AGENT)).toBe(AGENT_OWN_TICKETS_ONLY);
  });

  it('lets an agent the ticket is assigned to act on it', () => {
    const ticket = openedUnder(ownPolicy);
    applyAction(ticket, 'acknowledge', {}, context(AGENT));
    applyAction(ticket, 'plan', { ...plan, kind: 'service', dispatch: false }, context(SUPERVISOR));
    applyAction(ticket, 'assign', { engineerId: OTHER_AGENT.id }, context(SUPERVISOR));
    expect(authorizeAction(ticket, 'note', undefined, OTHER_AGENT)).toBeNull();
  });

  it('binds agents only: supervisors, managers and the role table itself are as before', () => {
    const ticket = openedUnder(ownPolicy);
    applyAction(ticket, 'acknowledge', {}, context(AGENT));
    expect(authorizeAction(ticket, 'cancel', undefined, SUPERVISOR)).toBeNull();
    expect(authorizeAction(ticket, 'note', undefined, { id: 'qc-1', role: 'qc' })).toBeNull();
    expect(authorizeAction(ticket, 'assign', undefined, OTHER_AGENT)).toBe(
      'role agent may not assign tickets',
    );
  });

  it('is off by default: any agent acts on any ticket', () => {
    const ticket = openedUnder(defaults);
    applyAction(ticket, 'acknowledge', {}, { nowMs: T0, actor: AGENT, policy: defaults });
    expect(authorizeAction(ticket, 'note', undefined, OTHER_AGENT)).toBeNull();
  });

  describe('what an agent sees (the read rule: GET, lists, the customer file, escalations)', () => {
    const sees = (ticket: TicketState, actor: Actor) => isInScope(ticket, ticketScope(actor));

    it('shows every agent a ticket nobody acknowledged yet: the queue it takes tickets from', () => {
      const ticket = openedUnder(ownPolicy);
      expect(agentMaySee(ticket, OTHER_AGENT.id)).toBe(true);
      expect(sees(ticket, OTHER_AGENT)).toBe(true);
      expect(sees(ticket, AGENT)).toBe(true);
    });

    it('shows an acknowledged ticket to the agent who acknowledged it only, and to supervisors and qc', () => {
      const ticket = openedUnder(ownPolicy);
      applyAction(ticket, 'acknowledge', {}, context(AGENT));
      expect(ticketScope(OTHER_AGENT)).toEqual({ kind: 'agent', actorId: OTHER_AGENT.id });
      expect(agentMaySee(ticket, OTHER_AGENT.id)).toBe(false);
      expect(sees(ticket, OTHER_AGENT)).toBe(false);
      expect(sees(ticket, AGENT)).toBe(true);
      for (const role of ['supervisor', 'manager', 'director', 'admin', 'qc'] as const) {
        expect(sees(ticket, { id: `${role}-1`, role })).toBe(true);
      }
    });

    it('shows a ticket to an agent it is assigned to', () => {
      expect(
        agentMaySee({ agentScope: 'own', acknowledgedBy: AGENT, assignee: OTHER_AGENT.id }, OTHER_AGENT.id),
      ).toBe(true);
      expect(
        agentMaySee({ agentScope: 'own', acknowledgedBy: AGENT, assignee: 'eng-1' }, OTHER_AGENT.id),
      ).toBe(false);
    });

    it('is off on a ticket opened under agentScope "all": every agent sees it', () => {
      const ticket = openedUnder(defaults);
      applyAction(ticket, 'acknowledge', {}, { nowMs: T0, actor: AGENT, policy: defaults });
      expect(agentMaySee(ticket, OTHER_AGENT.id)).toBe(true);
      expect(sees(ticket, OTHER_AGENT)).toBe(true);
    });
  });
});
