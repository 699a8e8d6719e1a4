import { describe, expect, it } from 'vitest';
import { breachDueClocks, nextDeadline } from '../../domain/clocks';
import {
  actionInputSchemas,
  allowedActions,
  applyAction,
  IllegalTransitionError,
  openTicket,
  recordOpening,
  type ActionInput,
  type ActionName,
} from '../../domain/lifecycle';
import { emptyChange, type TicketState } from '../../domain/ticket';
import { formatTicketNumber, isTicketNumber } from '../../domain/ticket-number';
import { ticketView } from '../../domain/view';
import { deriveWarranty } from '../../domain/warranty';
import {
  AGENT,
  intake,
  policy,
  satisfiedCallback,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  unhappyCallback,
} from '../support/fixtures';

const T0 = Date.parse('2026-11-23T02:00:00Z');
const MIN = 60_000;
const defaults = policy();

function open(priority: 'normal' | 'critical' = 'normal'): TicketState {
  return openTicket({
    number: 'WO20261123-001',
    intake: intake({ priority }),
    customerId: TEST_CUSTOMER_ID,
    createdBy: AGENT,
    createdAtMs: T0,
    policy: defaults,
  });
}

function act<A extends ActionName>(state: TicketState, action: A, input: ActionInput<A>, nowMs: number) {
  return applyAction(state, action, actionInputSchemas[action].parse(input) as ActionInput<A>, {
    nowMs,
    actor: SUPERVISOR,
    policy: defaults,
  });
}

describe('ticket lifecycle', () => {
  it('opens a ticket with its 10-minute first-response clock running', () => {
    const ticket = open();
    expect(ticket.status).toBe('new');
    expect(ticket.clocks.firstResponse).toMatchObject({
      dueAt: '2026-11-23T02:10:00.000Z',
      metAt: null,
      cycle: 1,
    });
    expect(nextDeadline(ticket)).toMatchObject({ clock: 'firstResponse', summary: 'first-response SLA 10m' });
    expect(ticket.warranty).toEqual({ status: 'in_warranty', expiresOn: '2027-03-15' });
  });

  it('notifies the supervisor at creation for a critical ticket only', () => {
    const critical = recordOpening(open('critical'));
    expect(critical.events.map((event) => event.type)).toEqual(['created', 'notification']);
    expect(critical.notifications).toMatchObject([
      { kind: 'critical_ticket_created', recipientRole: 'supervisor' },
    ]);
    expect(recordOpening(open()).notifications).toEqual([]);
  });

  it('an unacknowledged ticket escalates to the supervisor when the 10-minute first response passes', () => {
    const ticket = open();
    expect(breachDueClocks(ticket, T0 + 10 * MIN - 1, emptyChange())).toBe(false);
    const change = emptyChange();
    expect(breachDueClocks(ticket, T0 + 10 * MIN, change)).toBe(true);
    expect(ticket.escalationLevel).toBe(1);
    expect(change.escalations).toEqual([
      {
        id: 'WO20261123-001:firstResponse:1',
        ticketNumber: 'WO20261123-001',
        clock: 'firstResponse',
        level: 1,
        reason: 'first_response_missed',
        missedDeadline: '2026-11-23T02:10:00.000Z',
        firedAt: '2026-11-23T02:10:00.000Z',
      },
    ]);
    expect(change.notifications).toMatchObject([{ kind: 'escalation', recipientRole: 'supervisor' }]);
    const again = emptyChange();
    expect(breachDueClocks(ticket, T0 + 20 * MIN, again)).toBe(false);
    expect(again.escalations).toEqual([]);
  });

  it('acknowledging in time stops the first-response clock', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + 3 * MIN);
    expect(ticket.clocks.firstResponse?.metAt).toBe('2026-11-23T02:03:00.000Z');
    expect(breachDueClocks(ticket, T0 + 60 * MIN, emptyChange())).toBe(false);
    expect(ticketView(ticket, T0 + 60 * MIN).sla.firstResponse).toMatchObject({
      breached: false,
      remainingMs: null,
    });
  });

  it('resolving starts the 24-hour callback clock; a missed callback escalates and falls back to an SMS survey', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'resolve', { summary: 'Replaced the fan motor' }, T0 + 2 * MIN);
    expect(ticket.clocks.callback?.dueAt).toBe('2026-11-24T02:02:00.000Z');
    const change = emptyChange();
    breachDueClocks(ticket, T0 + 2 * MIN + 24 * 60 * MIN, change);
    expect(change.escalations).toMatchObject([{ clock: 'callback', level: 1, reason: 'callback_missed' }]);
    expect(change.notifications.map((n) => [n.kind, n.recipientRole, n.channel])).toEqual([
      ['escalation', 'supervisor', 'internal'],
      ['sms_survey', 'customer', 'sms'],
    ]);
  });

  it('a satisfied callback closes the ticket', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'resolve', { summary: 'Fixed' }, T0 + 2 * MIN);
    act(ticket, 'callback', satisfiedCallback, T0 + 60 * MIN);
    expect(ticket.status).toBe('closed');
    expect(allowedActions(ticket.status)).toEqual([]);
  });

  it('a callback with a score of 3 or less opens a complaint follow-up that escalates to the manager after 1 hour', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'resolve', { summary: 'Fixed' }, T0 + 2 * MIN);
    act(ticket, 'callback', unhappyCallback, T0 + 10 * MIN);
    expect(ticket.status).toBe('follow_up');
    expect(ticket.clocks.complaintFollowUp?.dueAt).toBe('2026-11-23T03:10:00.000Z');
    const change = emptyChange();
    breachDueClocks(ticket, T0 + 70 * MIN, change);
    expect(ticket.escalationLevel).toBe(2);
    expect(change.escalations).toMatchObject([
      { clock: 'complaintFollowUp', level: 2, reason: 'complaint_follow_up_missed' },
    ]);
    expect(change.notifications).toMatchObject([{ kind: 'escalation', recipientRole: 'manager' }]);
  });

  it('a customer marked "average" counts as a complaint even with good scores', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'resolve', { summary: 'Fixed' }, T0 + 2 * MIN);
    act(ticket, 'callback', { ...satisfiedCallback, satisfaction: 'average' }, T0 + 3 * MIN);
    expect(ticket.status).toBe('follow_up');
  });

  it('a recorded follow-up makes a new callback due, on a second cycle with its own escalation key', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'resolve', { summary: 'Fixed' }, T0 + 2 * MIN);
    act(ticket, 'callback', unhappyCallback, T0 + 3 * MIN);
    act(
      ticket,
      'follow-up',
      { contactMade: true, cause: 'Rude visit', improvementPlan: 'Senior engineer revisits' },
      T0 + 30 * MIN,
    );
    expect(ticket.status).toBe('resolved');
    expect(ticket.clocks.complaintFollowUp?.metAt).toBe('2026-11-23T02:30:00.000Z');
    expect(ticket.clocks.callback).toMatchObject({
      cycle: 2,
      metAt: null,
      dueAt: '2026-11-24T02:30:00.000Z',
    });
    const change = emptyChange();
    breachDueClocks(ticket, T0 + 25 * 60 * MIN, change);
    expect(change.escalations.map((e) => e.id)).toEqual(['WO20261123-001:callback:2']);
  });

  it.each([
    ['resolve', { summary: 'x' }],
    ['callback', satisfiedCallback],
    ['follow-up', { contactMade: true, cause: 'x', improvementPlan: 'y' }],
    ['close', { reason: 'customer_unreachable' }],
  ] as const)('refuses %s on a new ticket and names what is allowed', (action, input) => {
    const ticket = open();
    const before = JSON.stringify(ticket);
    expect(() => act(ticket, action, input as never, T0)).toThrow(IllegalTransitionError);
    expect(() => act(ticket, action, input as never, T0)).toThrow(
      `cannot ${action} a ticket that is new; allowed now: acknowledge`,
    );
    expect(JSON.stringify(ticket)).toBe(before);
  });

  it('refuses to acknowledge a closed ticket', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'resolve', { summary: 'Fixed' }, T0 + 2 * MIN);
    act(ticket, 'close', { reason: 'customer_unreachable' }, T0 + 3 * MIN);
    expect(() => act(ticket, 'acknowledge', {}, T0 + 4 * MIN)).toThrow(
      'cannot acknowledge a ticket that is closed; allowed now: none',
    );
  });

  it('bumps the version and numbers timeline events in order', () => {
    const ticket = open();
    const first = recordOpening(ticket);
    const second = act(ticket, 'acknowledge', { note: 'Called back' }, T0 + MIN);
    expect(ticket.version).toBe(2);
    expect([...first.events, ...second.events].map((event) => event.seq)).toEqual([1, 2]);
  });

  it('shows live SLA clocks: remaining time, and breached once the deadline passes unmet', () => {
    const ticket = open();
    expect(ticketView(ticket, T0 + 4 * MIN).sla.firstResponse).toMatchObject({
      remainingMs: 6 * MIN,
      breached: false,
    });
    const late = ticketView(ticket, T0 + 11 * MIN);
    expect(late.sla.firstResponse).toMatchObject({ remainingMs: 0, breached: true });
    expect(late.slaBreached).toBe(true);
  });
});

describe('ticket numbers and warranty', () => {
  it('formats WO<YYYYMMDD>-<NNN> and widens past 999', () => {
    expect(formatTicketNumber('2026-11-23', 1)).toBe('WO20261123-001');
    expect(formatTicketNumber('2026-11-23', 1000)).toBe('WO20261123-1000');
    expect(isTicketNumber('WO20261123-001')).toBe(true);
    expect(isTicketNumber('WO2026112-001')).toBe(false);
  });

  it('derives warranty from the purchase date and the warranty period', () => {
    expect(deriveWarranty('2025-11-23', 12, '2026-11-22')).toEqual({
      status: 'in_warranty',
      expiresOn: '2026-11-23',
    });
    expect(deriveWarranty('2025-11-23', 12, '2026-11-23')).toEqual({
      status: 'out_of_warranty',
      expiresOn: '2026-11-23',
    });
    expect(deriveWarranty(undefined, 12, '2026-11-23')).toEqual({ status: 'unknown', expiresOn: null });
  });
});
