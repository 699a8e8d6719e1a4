import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../config/policy-file';
import { nextDeadline } from '../../domain/clocks';
import {
  actionInputSchema,
  allowedActions,
  applyAction,
  fireDue,
  IllegalTransitionError,
  openTicket,
  type ActionInput,
  type ActionName,
} from '../../domain/lifecycle';
import { formatYuan } from '../../domain/money';
import type { SlaPolicy } from '../../domain/policy';
import {
  assessEligibility,
  describeIneligibility,
  returnRules,
  type ProofKind,
  type ReturnKind,
} from '../../domain/returns';
import type { Actor, TicketIntake, TicketState } from '../../domain/ticket';
import { AGENT, intake, policy, TEST_CUSTOMER_ID } from '../support/fixtures';

/**
 * Seed 003's return and exchange, up to the manager's decision, on the pure rules. Monday 2026-11-23
 * 10:00 in Shanghai (02:00Z) is T0; the default policy: 7 days to return, 15 to exchange, the
 * purchase proof and the product required, a manager's decision within 1 business day.
 */
const T0 = Date.parse('2026-11-23T02:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 60 * MIN;
const defaults = policy({ qcSampleRate: 0 });
const MANAGER: Actor = { id: 'mgr-1', role: 'manager' };
const BOTH: ProofKind[] = ['purchase_proof', 'product'];

describe('eligibility from the purchase date and the proofs', () => {
  const rules = returnRules(defaults);
  const assess = (kind: ReturnKind, purchaseDate: string | undefined, proofs: ProofKind[] = BOTH) =>
    assessEligibility({ kind, purchaseDate, requestDate: '2026-11-23', proofs }, rules);

  it('gives 7 days to return and 15 to exchange, the last day included', () => {
    expect(assess('return', '2026-11-16')).toEqual({
      eligible: true,
      windowDays: 7,
      lastDay: '2026-11-23',
      missingProofs: [],
      reasons: [],
    });
    expect(assess('return', '2026-11-15')).toMatchObject({ eligible: false, reasons: ['window_passed'] });
    expect(assess('exchange', '2026-11-08')).toMatchObject({ eligible: true, lastDay: '2026-11-23' });
    expect(assess('exchange', '2026-11-07')).toMatchObject({ eligible: false, reasons: ['window_passed'] });
  });

  it('requires the policy’s proofs and a purchase date on or before the request', () => {
    expect(assess('return', '2026-11-20', ['product'])).toMatchObject({
      eligible: false,
      missingProofs: ['purchase_proof'],
      reasons: ['missing_proofs'],
    });
    expect(assess('return', undefined)).toMatchObject({ lastDay: null, reasons: ['no_purchase_date'] });
    expect(assess('return', '2026-11-24')).toMatchObject({ reasons: ['purchase_after_request'] });
  });

  it('says why in words, every reason', () => {
    const late = assess('exchange', '2026-10-01', []);
    expect(describeIneligibility('exchange', late)).toEqual([
      'the 15-day exchange window ended on 2026-10-16',
      'missing proof: purchase_proof, product',
    ]);
  });

  it('takes the windows, proofs and approval clock from the policy file, with the defaults', () => {
    const custom = parsePolicy({
      returnWindowDays: 3,
      exchangeWindowDays: 30,
      returnProofs: ['purchase_proof'],
      returnApproval: '4bh',
    });
    expect(returnRules(custom)).toMatchObject({
      windowDays: { return: 3, exchange: 30 },
      requiredProofs: ['purchase_proof'],
      approval: { text: '4bh' },
    });
    expect(returnRules(parsePolicy({}))).toMatchObject({
      windowDays: { return: 7, exchange: 15 },
      requiredProofs: ['purchase_proof', 'product'],
      approval: { text: '1bd' },
    });
    expect(() => parsePolicy({ returnProofs: ['receipt'] })).toThrow(/returnProofs\.0/);
    expect(() => parsePolicy({ returnProofs: ['product', 'product'] })).toThrow('lists a proof twice');
    expect(() => parsePolicy({ exchangeWindowDays: -1 })).toThrow(/exchangeWindowDays/);
  });
});

function open(overrides: Partial<TicketIntake> = {}, slaPolicy: SlaPolicy = defaults): TicketState {
  return openTicket({
    number: 'WO20261123-001',
    intake: intake({ serviceType: 'return', ...overrides }),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: T0,
    policy: slaPolicy,
  });
}

function act<A extends ActionName>(
  state: TicketState,
  action: A,
  input: Record<string, unknown>,
  nowMs: number,
  actor: Actor = AGENT,
) {
  return applyAction(state, action, actionInputSchema(action).parse(input) as ActionInput<A>, {
    nowMs,
    actor,
    policy: defaults,
  });
}

const bought = (purchaseDate: string) => ({
  product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN1', purchaseDate },
});
const request = { returnReason: 'quality_defect', proofs: BOTH };

function acknowledged(overrides: Partial<TicketIntake> = bought('2026-11-20')): TicketState {
  const ticket = open(overrides);
  act(ticket, 'acknowledge', {}, T0 + MIN);
  return ticket;
}

describe('a return request and the manager’s decision', () => {
  it('an eligible request waits for the manager, whose 1-business-day clock escalates to the manager level', () => {
    const ticket = acknowledged();
    expect(allowedActions(ticket)).toContain('request-return');
    expect(allowedActions(ticket)).not.toContain('approve');
    const change = act(ticket, 'request-return', request, T0 + 2 * MIN);
    expect(ticket.clocks.returnApproval).toMatchObject({
      duration: '1bd',
      dueAt: '2026-11-24T02:02:00.000Z',
      metAt: null,
    });
    expect(change.events.map((event) => [event.type, event.data])).toEqual([
      [
        'return_requested',
        {
          kind: 'return',
          returnReason: 'quality_defect',
          proofs: BOTH,
          eligible: true,
          lastDay: '2026-11-27',
          approvalDueAt: '2026-11-24T02:02:00.000Z',
        },
      ],
      ['notification', expect.objectContaining({ kind: 'return_approval_needed', recipientRole: 'manager' })],
    ]);
    expect(allowedActions(ticket)).toEqual(expect.arrayContaining(['approve', 'reject']));
    expect(allowedActions(ticket)).not.toContain('request-return');

    const approvalEscalations = (nowMs: number) =>
      fireDue(ticket, nowMs, defaults).escalations.filter((row) => row.clock === 'returnApproval');
    expect(approvalEscalations(Date.parse('2026-11-24T02:01:59Z'))).toEqual([]);
    expect(approvalEscalations(Date.parse('2026-11-24T02:02:00Z'))).toMatchObject([
      { level: 2, reason: 'return_approval_missed', missedDeadline: '2026-11-24T02:02:00.000Z' },
    ]);
    expect(approvalEscalations(Date.parse('2026-11-24T02:03:00Z'))).toEqual([]);
  });

  it('approve stops the approval clock and tells the customer', () => {
    const ticket = acknowledged();
    act(ticket, 'request-return', request, T0 + 2 * MIN);
    const change = act(ticket, 'approve', { note: 'Refund approved' }, T0 + HOUR, MANAGER);
    expect(ticket.clocks.returnApproval?.metAt).toBe(new Date(T0 + HOUR).toISOString());
    expect(ticket.returnCase?.decision).toEqual({
      outcome: 'approved',
      at: new Date(T0 + HOUR).toISOString(),
      actor: MANAGER,
    });
    expect(change.notifications).toMatchObject([
      { kind: 'return_decided', recipientRole: 'customer', data: { kind: 'return', outcome: 'approved' } },
    ]);
    expect(allowedActions(ticket)).not.toContain('reject');
  });

  it('reject closes the ticket with the manager’s reason and stops the work clocks', () => {
    const ticket = acknowledged();
    act(ticket, 'request-return', request, T0 + 2 * MIN);
    const change = act(ticket, 'reject', { reason: 'Water damage' }, T0 + HOUR, MANAGER);
    expect(ticket.status).toBe('closed');
    expect(ticket.closure).toEqual({ at: new Date(T0 + HOUR).toISOString(), reason: 'rejected' });
    expect(change.events.map((event) => event.type)).toEqual(['return_rejected', 'notification', 'closed']);
    expect(ticket.returnCase?.decision).toMatchObject({ outcome: 'rejected', reason: 'Water damage' });
    expect(nextDeadline(ticket)?.summary).toBe('reopen window 30d');
  });

  it('an ineligible request is refused with its reasons, the customer told and the ticket closed', () => {
    const ticket = acknowledged(bought('2026-11-01'));
    const change = act(ticket, 'request-return', { ...request, proofs: ['product'] }, T0 + 2 * MIN);
    expect(ticket.status).toBe('closed');
    expect(ticket.closure?.reason).toBe('ineligible');
    expect(ticket.clocks.returnApproval).toBeUndefined();
    const reasons = ['the 7-day return window ended on 2026-11-08', 'missing proof: purchase_proof'];
    expect(change.events.map((event) => [event.type, event.data.ineligible ?? event.data.kind])).toEqual([
      ['return_requested', reasons],
      ['return_refused', reasons],
      ['notification', 'return_refused'],
      ['closed', undefined],
    ]);
    expect(change.notifications[0]?.data).toEqual({
      kind: 'return',
      reasons: ['window_passed', 'missing_proofs'],
      lastDay: '2026-11-08',
    });
    expect(ticket.returnCase?.decision).toMatchObject({ outcome: 'refused', actor: null });
  });

  it('an ineligible request with an exception goes to the manager, and a reopened refusal may ask again', () => {
    const ticket = acknowledged(bought('2026-11-01'));
    act(ticket, 'request-return', { ...request, exception: 'VIP customer, defect on day 3' }, T0 + 2 * MIN);
    expect(ticket.status).toBe('acknowledged');
    expect(ticket.returnCase).toMatchObject({
      exception: 'VIP customer, defect on day 3',
      eligibility: { eligible: false },
    });
    expect(ticket.clocks.returnApproval?.metAt).toBeNull();
    act(ticket, 'reject', { reason: 'Outside the window' }, T0 + HOUR, MANAGER);
    act(ticket, 'reopen', { reason: 'Customer brought the invoice' }, T0 + 2 * HOUR);
    expect(allowedActions(ticket)).toContain('request-return');
    act(
      ticket,
      'request-return',
      { ...request, exception: 'Invoice shows delivery on 11-18' },
      T0 + 3 * HOUR,
    );
    expect(ticket.clocks.returnApproval).toMatchObject({ cycle: 2, metAt: null });
    act(ticket, 'approve', {}, T0 + 4 * HOUR, MANAGER);
    expect(ticket.approval).not.toBeNull();
  });

  it('refuses a request on another service type, and a decision without a request', () => {
    const repair = open({ serviceType: 'repair' });
    act(repair, 'acknowledge', {}, T0 + MIN);
    expect(() => act(repair, 'request-return', request, T0 + 2 * MIN)).toThrow(
      'only a ticket of service type return or exchange takes a return request',
    );
    const ticket = acknowledged();
    expect(() => act(ticket, 'reject', { reason: 'No' }, T0 + 2 * MIN, MANAGER)).toThrow(
      IllegalTransitionError,
    );
  });

  it('a ticket opened before return requests keeps its old rule: approve without a request', () => {
    const ticket = acknowledged();
    delete ticket.returnCase;
    expect(allowedActions(ticket)).toContain('approve');
    expect(allowedActions(ticket)).not.toContain('request-return');
    const change = act(ticket, 'approve', {}, T0 + 2 * MIN, MANAGER);
    expect(change.events.map((event) => event.type)).toEqual(['approved']);
  });
});

describe('an approved return: ship-back, receipt, inspection, refund', () => {
  const FINANCE: Actor = { id: 'fin-1', role: 'finance' };
  const DAY = 24 * HOUR;

  function approvedReturn(): TicketState {
    const ticket = acknowledged();
    act(ticket, 'request-return', request, T0 + 2 * MIN);
    act(ticket, 'approve', {}, T0 + HOUR, MANAGER);
    return ticket;
  }

  it('approve starts the 7-day ship-back window with a reminder at half, stops the service clocks', () => {
    const ticket = acknowledged();
    act(ticket, 'request-return', request, T0 + 2 * MIN);
    const change = act(ticket, 'approve', {}, T0 + HOUR, MANAGER);
    expect(ticket.status).toBe('returning');
    expect(ticket.clocks.shipBack).toMatchObject({ duration: '7d', dueAt: iso(T0 + HOUR + 7 * DAY) });
    expect(ticket.clocks.shipBackReminder?.dueAt).toBe(iso(T0 + HOUR + 3.5 * DAY));
    expect(ticket.clocks.resolution?.metAt).toBe(iso(T0 + HOUR));
    expect(ticket.clocks.plan?.metAt).toBe(iso(T0 + HOUR));
    expect(change.events.map((event) => event.type)).toEqual(['approved', 'ship_back_due', 'notification']);
    expect(change.notifications[0]?.data).toEqual({
      kind: 'return',
      outcome: 'approved',
      shipBackBy: iso(T0 + HOUR + 7 * DAY),
    });
    expect(allowedActions(ticket)).toEqual(['ship-back', 'receive-return', 'cancel', 'note']);
  });

  it('the customer is reminded at half the window, and the return is cancelled when it passes', () => {
    const ticket = approvedReturn();
    const reminded = fireDue(ticket, T0 + HOUR + 3.5 * DAY, defaults);
    expect(reminded.notifications).toMatchObject([
      { kind: 'ship_back_reminder', recipientRole: 'customer', data: { dueAt: iso(T0 + HOUR + 7 * DAY) } },
    ]);
    expect(fireDue(ticket, T0 + HOUR + 5 * DAY, defaults).notifications).toEqual([]);
    const lapsed = fireDue(ticket, T0 + HOUR + 7 * DAY, defaults);
    expect(ticket.status).toBe('cancelled');
    expect(lapsed.events.map((event) => [event.type, event.data])).toEqual([
      ['return_lapsed', { missedDeadline: iso(T0 + HOUR + 7 * DAY) }],
      ['notification', expect.objectContaining({ kind: 'return_lapsed' })],
      ['cancelled', { reason: 'ship_back_window_lapsed' }],
    ]);
    expect(lapsed.escalations).toEqual([]);
    expect(nextDeadline(ticket)).toBeUndefined();
  });

  it('shipped, signed for, inspected and refunded within 3 business days: closed as refunded', () => {
    const ticket = approvedReturn();
    act(ticket, 'ship-back', { carrier: 'SF Express', trackingNumber: 'SF1' }, T0 + DAY);
    expect(ticket.clocks.shipBack?.metAt).toBe(iso(T0 + DAY));
    expect(ticket.clocks.shipBackReminder?.metAt).toBe(iso(T0 + DAY));
    expect(allowedActions(ticket)).not.toContain('ship-back');
    act(ticket, 'receive-return', { signedBy: 'warehouse-3' }, T0 + 2 * DAY);
    expect(ticket.status).toBe('inspecting');
    const inspected = act(
      ticket,
      'inspect-return',
      { appearance: 'pass', function: 'pass' },
      T0 + 2 * DAY + HOUR,
    );
    expect(ticket.status).toBe('refunding');
    expect(ticket.clocks.refund).toMatchObject({ duration: '3bd', dueAt: '2026-11-30T03:00:00.000Z' });
    expect(inspected.notifications).toMatchObject([{ kind: 'refund_due', recipientRole: 'finance' }]);
    act(ticket, 'refund', { amountFen: 129_900, method: 'alipay', reference: 'R1' }, T0 + 3 * DAY, FINANCE);
    expect(ticket.status).toBe('closed');
    expect(ticket.closure?.reason).toBe('refunded');
    expect(ticket.returnCase?.refund).toMatchObject({
      amountFen: 129_900,
      method: 'alipay',
      reference: 'R1',
    });
    expect(ticket.clocks.refund?.metAt).toBe(iso(T0 + 3 * DAY));
  });

  it('refunds only through the original payment method, when the request recorded it', () => {
    const ticket = acknowledged();
    act(ticket, 'request-return', { ...request, paidWith: 'bank_card' }, T0 + 2 * MIN);
    expect(ticket.returnCase?.paidWith).toBe('bank_card');
    act(ticket, 'approve', {}, T0 + HOUR, MANAGER);
    act(ticket, 'receive-return', { signedBy: 'warehouse-3' }, T0 + DAY);
    act(ticket, 'inspect-return', { appearance: 'pass', function: 'pass' }, T0 + DAY + HOUR);
    const otherWay = { amountFen: 129_900, method: 'alipay', reference: 'R1' } as const;
    expect(() => act(ticket, 'refund', otherWay, T0 + 2 * DAY, FINANCE)).toThrow(
      'method must be the original payment method, bank_card',
    );
    expect(ticket.status).toBe('refunding');
    act(ticket, 'refund', { ...otherWay, method: 'bank_card' }, T0 + 2 * DAY, FINANCE);
    expect(ticket.returnCase?.refund).toMatchObject({ method: 'bank_card' });
  });

  it('a refund not made in 3 business days escalates to the manager once', () => {
    const ticket = approvedReturn();
    act(ticket, 'receive-return', { signedBy: 'warehouse-3' }, T0 + 2 * DAY);
    act(ticket, 'inspect-return', { appearance: 'pass', function: 'pass' }, T0 + 2 * DAY + HOUR);
    const due = Date.parse('2026-11-30T03:00:00Z');
    const refundEscalations = (nowMs: number) =>
      fireDue(ticket, nowMs, defaults).escalations.filter((row) => row.reason === 'refund_missed');
    expect(refundEscalations(due - 1_000)).toEqual([]);
    expect(refundEscalations(due)).toMatchObject([{ level: 2, reason: 'refund_missed' }]);
    expect(refundEscalations(due + HOUR)).toEqual([]);
  });

  it('a failed inspection goes to negotiation: refund after all, or the product goes back', () => {
    const ticket = approvedReturn();
    act(ticket, 'receive-return', { signedBy: 'warehouse-3' }, T0 + 2 * DAY);
    const failed = act(
      ticket,
      'inspect-return',
      { appearance: 'fail', function: 'pass' },
      T0 + 2 * DAY + HOUR,
    );
    expect(ticket.status).toBe('negotiating');
    expect(failed.notifications).toMatchObject([
      { kind: 'return_inspection_failed', recipientRole: 'customer' },
    ]);
    const settled = structuredClone(ticket);
    act(settled, 'settle-return', { outcome: 'returned_to_customer', note: 'Scratched' }, T0 + 3 * DAY);
    expect(settled).toMatchObject({ status: 'closed', closure: { reason: 'returned_to_customer' } });
    act(ticket, 'settle-return', { outcome: 'refund', note: 'Agreed a partial refund' }, T0 + 3 * DAY);
    expect(ticket.status).toBe('refunding');
    expect(ticket.clocks.refund?.metAt).toBeNull();
  });

  it('an approved exchange asks the parts group for a replacement instead of a service', () => {
    const ticket = acknowledged();
    ticket.intake = { ...ticket.intake, serviceType: 'exchange' };
    act(ticket, 'request-return', request, T0 + 2 * MIN);
    const change = act(ticket, 'approve', {}, T0 + HOUR, MANAGER);
    expect(ticket.status).toBe('exchanging');
    expect(ticket.clocks.shipBack).toBeUndefined();
    expect(ticket.clocks.resolution?.metAt).toBe(iso(T0 + HOUR));
    expect(change.notifications.map((row) => [row.kind, row.recipientRole, row.data])).toEqual([
      ['return_decided', 'customer', { kind: 'exchange', outcome: 'approved' }],
      ['replacement_needed', 'parts', { round: 1, dueAt: '2026-11-24T03:00:00.000Z' }],
    ]);
  });
});

describe('money in fen', () => {
  it('formats integer fen as yuan for people, never through a float sum', () => {
    expect(formatYuan(129_900)).toBe('¥1,299.00');
    expect(formatYuan(5)).toBe('¥0.05');
    expect(formatYuan(0)).toBe('¥0.00');
    expect(formatYuan(-1_050)).toBe('-¥10.50');
  });
});

describe('an approved exchange: replacement, acceptance, the unit taken back', () => {
  const PARTS: Actor = { id: 'parts-1', role: 'parts' };
  const ship = { partNumber: 'KFR-35GW', carrier: 'SF Express', trackingNumber: 'SF9' };
  const unit = { partNumber: 'KFR-35GW', locationId: 'wh-main', disposition: 'refurbish' };

  function approvedExchange(): TicketState {
    const ticket = open({ serviceType: 'exchange', ...bought('2026-11-20') });
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'request-return', request, T0 + 2 * MIN);
    act(ticket, 'approve', {}, T0 + HOUR, MANAGER);
    return ticket;
  }

  it('ships the replacement (the parts wait met), the customer accepts, the unit comes back: closed as exchanged', () => {
    const ticket = approvedExchange();
    expect([...allowedActions(ticket)].sort()).toEqual([
      'cancel',
      'note',
      'receive-unit',
      'ship-replacement',
    ]);
    const shipped = act(ticket, 'ship-replacement', ship, T0 + 2 * HOUR, PARTS);
    expect(ticket.status).toBe('replacement_shipped');
    expect(shipped.notifications).toMatchObject([
      {
        kind: 'replacement_shipped',
        recipientRole: 'customer',
        data: { carrier: 'SF Express', trackingNumber: 'SF9' },
      },
    ]);
    act(ticket, 'confirm-replacement', { accepted: true }, T0 + 3 * HOUR);
    expect(ticket.status).toBe('awaiting_unit');
    const booked = act(ticket, 'receive-unit', unit, T0 + 4 * HOUR, PARTS);
    expect(ticket).toMatchObject({ status: 'closed', closure: { reason: 'exchanged' } });
    expect(booked.events.map((event) => event.type)).toEqual(['unit_received', 'notification', 'closed']);
    expect(ticket.returnCase?.replacements).toEqual([
      { round: 1, ...ship, shippedAt: iso(T0 + 2 * HOUR), accepted: true },
    ]);
    expect(ticket.returnCase?.returnedUnit).toMatchObject({ disposition: 'refurbish', actor: PARTS });
  });

  it('a refused replacement starts a new round; the unit may come back first', () => {
    const ticket = approvedExchange();
    act(ticket, 'receive-unit', { ...unit, disposition: 'scrap' }, T0 + 90 * MIN, PARTS);
    expect(ticket.status).toBe('exchanging');
    expect(allowedActions(ticket)).not.toContain('receive-unit');
    act(ticket, 'ship-replacement', ship, T0 + 2 * HOUR, PARTS);
    const refused = act(
      ticket,
      'confirm-replacement',
      { accepted: false, note: 'Dented box' },
      T0 + 3 * HOUR,
    );
    expect(ticket.status).toBe('exchanging');
    expect(refused.notifications).toMatchObject([
      { kind: 'replacement_answered', recipientRole: 'supervisor', data: { round: 1, accepted: false } },
      { kind: 'replacement_needed', recipientRole: 'parts', data: { round: 2 } },
    ]);
    act(ticket, 'ship-replacement', { ...ship, trackingNumber: 'SF10' }, T0 + 4 * HOUR, PARTS);
    act(ticket, 'confirm-replacement', { accepted: true }, T0 + 5 * HOUR);
    expect(ticket).toMatchObject({ status: 'closed', closure: { reason: 'exchanged' } });
    expect(ticket.returnCase?.replacements?.map((row) => [row.round, row.accepted])).toEqual([
      [1, false],
      [2, true],
    ]);
  });
});

describe('every wait of a return and an exchange has a clock; the steps tell the staff who take them', () => {
  const PARTS: Actor = { id: 'parts-1', role: 'parts' };
  const QC: Actor = { id: 'qc-1', role: 'qc' };
  const DAY = 24 * HOUR;
  const ship = { partNumber: 'KFR-35GW', carrier: 'SF Express', trackingNumber: 'SF9' };
  const unit = { partNumber: 'KFR-35GW', locationId: 'wh-main', disposition: 'refurbish' };

  function approved(serviceType: 'return' | 'exchange'): TicketState {
    const ticket = open({ serviceType, ...bought('2026-11-20') });
    act(ticket, 'acknowledge', {}, T0 + MIN);
    act(ticket, 'request-return', request, T0 + 2 * MIN);
    act(ticket, 'approve', {}, T0 + HOUR, MANAGER);
    return ticket;
  }

  /** The clock escalates to the supervisor exactly at its deadline, and only once. */
  function expectEscalatesOnce(ticket: TicketState, reason: string, dueMs: number): void {
    const fired = (nowMs: number) => {
      const change = fireDue(ticket, nowMs, defaults);
      return {
        escalations: change.escalations.filter((row) => row.reason === reason),
        notices: change.notifications
          .filter((row) => row.kind === 'escalation' && row.data.reason === reason)
          .map((row) => row.recipientRole),
      };
    };
    expect(fired(dueMs - 1_000)).toEqual({ escalations: [], notices: [] });
    const due = fired(dueMs);
    expect(due.escalations).toMatchObject([{ level: 1, reason, missedDeadline: iso(dueMs) }]);
    expect(due.notices).toContain('supervisor');
    expect(fired(dueMs + DAY)).toEqual({ escalations: [], notices: [] });
  }

  it('ship-back tells the parts group (the warehouse) to expect the parcel', () => {
    const ticket = approved('return');
    const shipped = act(ticket, 'ship-back', { carrier: 'SF Express', trackingNumber: 'SF1' }, T0 + DAY);
    expect(shipped.notifications.map((row) => [row.kind, row.recipientRole, row.channel, row.data])).toEqual([
      ['return_inbound', 'parts', 'internal', { carrier: 'SF Express', trackingNumber: 'SF1' }],
    ]);
  });

  it('a received return waits 1 business day for its inspection, then escalates once; inspect-return stops it', () => {
    const ticket = approved('return');
    // Wednesday 10:00 in Shanghai: due Thursday 10:00.
    const received = act(ticket, 'receive-return', { signedBy: 'warehouse-3' }, T0 + 2 * DAY, PARTS);
    const due = Date.parse('2026-11-26T02:00:00Z');
    expect(ticket.clocks.returnInspection).toMatchObject({ duration: '1bd', dueAt: iso(due), metAt: null });
    expect(received.events[0]?.data.inspectionDueAt).toBe(iso(due));
    const inspected = structuredClone(ticket);
    act(inspected, 'inspect-return', { appearance: 'pass', function: 'pass' }, due - HOUR, QC);
    expect(inspected.clocks.returnInspection?.metAt).toBe(iso(due - HOUR));
    expectEscalatesOnce(ticket, 'return_inspection_missed', due);
  });

  it('a failed inspection waits 3 business days for its settlement, then escalates once; settle-return stops it', () => {
    const ticket = approved('return');
    act(ticket, 'receive-return', { signedBy: 'warehouse-3' }, T0 + 2 * DAY, PARTS);
    const failed = act(
      ticket,
      'inspect-return',
      { appearance: 'fail', function: 'pass' },
      T0 + 2 * DAY + HOUR,
      QC,
    );
    // Wednesday 11:00 plus 3 business days: Monday 11:00.
    const due = Date.parse('2026-11-30T03:00:00Z');
    expect(ticket.clocks.returnNegotiation).toMatchObject({ duration: '3bd', dueAt: iso(due), metAt: null });
    expect(failed.events[0]?.data.settleDueAt).toBe(iso(due));
    const settled = structuredClone(ticket);
    act(settled, 'settle-return', { outcome: 'refund', note: 'Partial refund' }, T0 + 3 * DAY);
    expect(settled.clocks.returnNegotiation?.metAt).toBe(iso(T0 + 3 * DAY));
    expect(settled.clocks.refund?.metAt).toBeNull();
    expectEscalatesOnce(ticket, 'return_negotiation_missed', due);
  });

  it('an approved exchange gives the parts group 1 business day to ship, then escalates once', () => {
    const ticket = approved('exchange');
    const due = Date.parse('2026-11-24T03:00:00Z');
    expect(ticket.clocks.replacementShipment).toMatchObject({
      duration: '1bd',
      dueAt: iso(due),
      metAt: null,
    });
    const shipped = structuredClone(ticket);
    act(shipped, 'ship-replacement', ship, T0 + 2 * HOUR, PARTS);
    expect(shipped.clocks.replacementShipment?.metAt).toBe(iso(T0 + 2 * HOUR));
    expectEscalatesOnce(ticket, 'replacement_shipment_missed', due);
  });

  it('a shipped replacement waits 7 days for the customer’s answer, then escalates once', () => {
    const ticket = approved('exchange');
    const shipped = act(ticket, 'ship-replacement', ship, T0 + 2 * HOUR, PARTS);
    const due = T0 + 2 * HOUR + 7 * DAY;
    expect(ticket.clocks.replacementConfirmation).toMatchObject({
      duration: '7d',
      dueAt: iso(due),
      metAt: null,
    });
    expect(shipped.events[0]?.data.answerDueAt).toBe(iso(due));
    const answered = structuredClone(ticket);
    act(answered, 'confirm-replacement', { accepted: true }, T0 + DAY);
    expect(answered.clocks.replacementConfirmation?.metAt).toBe(iso(T0 + DAY));
    expectEscalatesOnce(ticket, 'replacement_confirmation_missed', due);
  });

  it('accepted: the parts group takes the unit back within 7 days (or it escalates once); qc inspects it', () => {
    const ticket = approved('exchange');
    act(ticket, 'ship-replacement', ship, T0 + 2 * HOUR, PARTS);
    const accepted = act(ticket, 'confirm-replacement', { accepted: true }, T0 + DAY);
    const due = T0 + 8 * DAY;
    expect(ticket.clocks.unitReturn).toMatchObject({ duration: '7d', dueAt: iso(due), metAt: null });
    expect(accepted.notifications.map((row) => [row.kind, row.recipientRole, row.data])).toEqual([
      ['replacement_answered', 'parts', { round: 1, accepted: true, unitDueAt: iso(due) }],
    ]);
    const back = structuredClone(ticket);
    const booked = act(back, 'receive-unit', unit, T0 + 2 * DAY, PARTS);
    expect(back.clocks.unitReturn?.metAt).toBe(iso(T0 + 2 * DAY));
    expect(booked.notifications.map((row) => [row.kind, row.recipientRole, row.channel, row.data])).toEqual([
      ['unit_to_inspect', 'qc', 'internal', unit],
    ]);
    expectEscalatesOnce(ticket, 'unit_return_missed', due);
  });

  it('refused: the supervisor is told and the parts group’s shipment clock starts again', () => {
    const ticket = approved('exchange');
    act(ticket, 'ship-replacement', ship, T0 + 2 * HOUR, PARTS);
    act(ticket, 'confirm-replacement', { accepted: false, note: 'Dented' }, T0 + DAY);
    // Tuesday 10:00 plus 1 business day.
    expect(ticket.clocks.replacementShipment).toMatchObject({
      cycle: 2,
      dueAt: '2026-11-25T02:00:00.000Z',
      metAt: null,
    });
    expect(ticket.clocks.unitReturn).toBeUndefined();
  });

  it('a ticket opened before these clocks replays without them: no clock starts, nobody new is told', () => {
    const exchange = approved('exchange');
    delete exchange.returnWaitClocks;
    delete exchange.clocks.replacementShipment;
    act(exchange, 'ship-replacement', ship, T0 + 2 * HOUR, PARTS);
    const accepted = act(exchange, 'confirm-replacement', { accepted: true }, T0 + DAY);
    const booked = act(exchange, 'receive-unit', unit, T0 + 2 * DAY, PARTS);
    expect([...accepted.notifications, ...booked.notifications]).toEqual([]);
    const ret = open({ serviceType: 'return', ...bought('2026-11-20') });
    delete ret.returnWaitClocks;
    act(ret, 'acknowledge', {}, T0 + MIN);
    act(ret, 'request-return', request, T0 + 2 * MIN);
    act(ret, 'approve', {}, T0 + HOUR, MANAGER);
    expect(act(ret, 'ship-back', { carrier: 'SF', trackingNumber: 'SF2' }, T0 + DAY).notifications).toEqual(
      [],
    );
    act(ret, 'receive-return', { signedBy: 'warehouse-3' }, T0 + 2 * DAY, PARTS);
    act(ret, 'inspect-return', { appearance: 'fail', function: 'pass' }, T0 + 2 * DAY + HOUR, QC);
    const names = [...Object.keys(exchange.clocks), ...Object.keys(ret.clocks)];
    for (const name of [
      'replacementShipment',
      'replacementConfirmation',
      'unitReturn',
      'returnInspection',
      'returnNegotiation',
    ]) {
      expect(names).not.toContain(name);
    }
  });

  it('takes each wait’s length from the policy file, with the defaults', () => {
    expect(
      returnRules(parsePolicy({ replacementShipment: '4bh', unitReturn: '10d', returnNegotiation: '5bd' })),
    ).toMatchObject({
      replacementShipment: { text: '4bh' },
      replacementConfirmation: { text: '7d' },
      unitReturn: { text: '10d' },
      returnInspection: { text: '1bd' },
      returnNegotiation: { text: '5bd' },
    });
    expect(() => parsePolicy({ returnInspection: 'soon' })).toThrow(/returnInspection/);
  });
});
