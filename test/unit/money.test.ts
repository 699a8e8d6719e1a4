import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../config/policy-file';
import {
  actionInputSchema,
  allowedActions,
  applyAction,
  fireDue,
  openTicket,
  type ActionInput,
  type ActionName,
} from '../../domain/lifecycle';
import { upgradeLegacyResolve } from '../../domain/action-inputs';
import { priceQuote } from '../../domain/money';
import { ticketView } from '../../domain/view';
import type { Actor, TicketIntake, TicketState } from '../../domain/ticket';
import { AGENT, intake, policy, TEST_CUSTOMER_ID } from '../support/fixtures';

/**
 * Seed 004's money on the pure rules: the price list (catalogue parts, labour and visit by service
 * type, in fen), the quote out of warranty and the customer's consent with its expiry clock. T0 is
 * Monday 2026-11-23 10:00 in Shanghai.
 */
const T0 = Date.parse('2026-11-23T02:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();
const defaults = policy({ qcSampleRate: 0 });
const ENGINEER: Actor = { id: 'eng-1', role: 'engineer' };
const CLIENT: Actor = { id: 'shop-app', role: 'client' };
const FEES = parsePolicy({}).serviceFees;
if (!FEES) throw new Error('the default policy has service fees');

describe('the price list', () => {
  it('prices parts from the catalogue and labour and the visit by service type, in fen', () => {
    const quote = priceQuote({
      serviceType: 'repair',
      parts: [{ partNumber: 'C123', quantity: 2 }],
      prices: { C123: 5_000 },
      fees: FEES,
    });
    expect(quote).toEqual({
      lines: [
        { kind: 'part', partNumber: 'C123', quantity: 2, unitPriceFen: 5_000, amountFen: 10_000 },
        { kind: 'labor', quantity: 1, unitPriceFen: 8_000, amountFen: 8_000 },
        { kind: 'visit', quantity: 1, unitPriceFen: 5_000, amountFen: 5_000 },
      ],
      totalFen: 23_000,
    });
    expect(priceQuote({ serviceType: 'remote_support', parts: [], prices: {}, fees: FEES }).totalFen).toBe(
      3_000,
    );
  });

  it('takes the fees from the policy file, whole fen only', () => {
    const custom = parsePolicy({ serviceFees: { repair: { laborFen: 12_000, visitFen: 6_000 } } });
    expect(custom.serviceFees).toMatchObject({
      repair: { laborFen: 12_000, visitFen: 6_000 },
      installation: { laborFen: 10_000, visitFen: 0 },
    });
    expect(custom.quoteExpiry?.text).toBe('48h');
    expect(() => parsePolicy({ serviceFees: { repair: { laborFen: 80.5, visitFen: 0 } } })).toThrow(
      'serviceFees.repair.laborFen: must be whole fen (integer minor units)',
    );
    expect(() => parsePolicy({ serviceFees: { return: { laborFen: 1, visitFen: 0 } } })).toThrow(
      /serviceFees/,
    );
  });
});

function outOfWarranty(overrides: Partial<TicketIntake> = {}): TicketState {
  const ticket = openTicket({
    number: 'WO20261123-002',
    intake: intake({
      product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN2', purchaseDate: '2020-01-01' },
      ...overrides,
    }),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: T0,
    policy: defaults,
  });
  act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
  return ticket;
}

function act<A extends ActionName>(
  state: TicketState,
  action: A,
  input: Record<string, unknown>,
  nowMs: number,
  actor: Actor,
  prices?: Record<string, number>,
) {
  return applyAction(state, action, actionInputSchema(action).parse(input) as ActionInput<A>, {
    nowMs,
    actor,
    policy: defaults,
    ...(prices ? { prices } : {}),
  });
}

describe('a quote out of warranty and the customer’s consent', () => {
  const quoted = (ticket: TicketState) =>
    act(ticket, 'quote', { parts: [{ partNumber: 'C123', quantity: 1 }] }, T0 + HOUR, ENGINEER, {
      C123: 5_000,
    });

  it('holds the work until the customer consents; the quote goes by SMS and e-mail with its 48-hour expiry', () => {
    const ticket = outOfWarranty({
      customer: { name: '张三', phone: '13812345678', email: 'z@example.com' },
    });
    expect(allowedActions(ticket)).toContain('quote');
    const change = quoted(ticket);
    expect(ticket.status).toBe('awaiting_consent');
    expect(ticket.quote).toMatchObject({
      round: 1,
      totalFen: 18_000,
      status: 'pending',
      expiresAt: iso(T0 + 49 * HOUR),
      resumeTo: 'acknowledged',
    });
    expect(ticket.clocks.quoteExpiry).toMatchObject({ duration: '48h', dueAt: iso(T0 + 49 * HOUR) });
    expect(change.notifications.map((row) => [row.kind, row.channel, row.data])).toEqual([
      ['quote_sent', 'sms', { totalFen: 18_000, expiresAt: iso(T0 + 49 * HOUR) }],
      ['quote_sent', 'email', { totalFen: 18_000, expiresAt: iso(T0 + 49 * HOUR) }],
    ]);
    expect(allowedActions(ticket)).toEqual(['consent', 'cancel', 'note']);
    act(ticket, 'consent', { accepted: true }, T0 + 2 * HOUR, CLIENT);
    expect(ticket).toMatchObject({ status: 'acknowledged', quote: { status: 'accepted' } });
    expect(ticket.clocks.quoteExpiry?.metAt).toBe(iso(T0 + 2 * HOUR));
    expect(ticket.clocks.resolution).toMatchObject({ pausedAt: null, metAt: null });
  });

  it('keeps every round: a re-quote after consent is round 2, round 1 stays accepted in the view', () => {
    const ticket = outOfWarranty();
    quoted(ticket);
    act(ticket, 'consent', { accepted: true }, T0 + 2 * HOUR, CLIENT);
    act(ticket, 'quote', { parts: [{ partNumber: 'C123', quantity: 2 }] }, T0 + 3 * HOUR, ENGINEER, {
      C123: 5_000,
    });
    act(ticket, 'consent', { accepted: false }, T0 + 4 * HOUR, CLIENT);
    expect(ticket.quote).toMatchObject({ round: 2, totalFen: 23_000, status: 'declined' });
    const rounds = ticketView(ticket, T0 + 4 * HOUR).quotes.map((quote) => [
      quote.round,
      quote.totalFen,
      quote.status,
    ]);
    expect(rounds).toEqual([
      [1, 18_000, 'accepted'],
      [2, 23_000, 'declined'],
    ]);
  });

  it('declined: the ticket closes as declined, nothing charged', () => {
    const ticket = outOfWarranty();
    quoted(ticket);
    const change = act(ticket, 'consent', { accepted: false }, T0 + 2 * HOUR, CLIENT);
    expect(ticket).toMatchObject({ status: 'closed', closure: { reason: 'declined' }, serviceRecords: [] });
    expect(change.events.map((event) => event.type)).toEqual(['quote_declined', 'closed']);
    expect(ticket.clocks.resolution?.metAt).toBe(iso(T0 + 2 * HOUR));
  });

  it('unanswered for 48 hours: the quote expires and the ticket closes as declined', () => {
    const ticket = outOfWarranty();
    quoted(ticket);
    // (Meanwhile the 2-hour plan clock, still owed, escalates; the resolution clock waits.)
    const quoteEvents = (nowMs: number) =>
      fireDue(ticket, nowMs, defaults).events.filter(
        (event) => event.type.startsWith('quote') || event.type === 'closed',
      );
    expect(quoteEvents(T0 + 49 * HOUR - 1)).toEqual([]);
    expect(ticket.clocks.resolution?.pausedAt).toBe(iso(T0 + HOUR));
    const expired = quoteEvents(T0 + 49 * HOUR);
    expect(expired.map((event) => [event.type, event.data.reason ?? event.data.round])).toEqual([
      ['quote_expired', 1],
      ['closed', 'declined'],
    ]);
    expect(ticket.quote?.status).toBe('expired');
    expect(ticket.status).toBe('closed');
  });

  it('a ticket under warranty, a return or exchange, a ticket opened before quotes: not quoted', () => {
    const covered = outOfWarranty({
      product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN3', purchaseDate: '2026-06-01' },
    });
    expect(covered.warranty.status).toBe('in_warranty');
    expect(() => act(covered, 'quote', {}, T0 + HOUR, ENGINEER)).toThrow(
      'under warranty the work is free: nothing to quote',
    );
    const exchange = outOfWarranty({ serviceType: 'exchange' });
    expect(allowedActions(exchange)).not.toContain('quote');
    const older = outOfWarranty();
    delete older.quote;
    delete older.quoteBeforeWork;
    expect(allowedActions(older)).not.toContain('quote');
    expect(allowedActions(older)).toContain('resolve');
  });
});

describe('payment and the e-invoice of a consented quote', () => {
  const FINANCE: Actor = { id: 'fin-1', role: 'finance' };
  const record = { diagnosis: 'Capacitor', fix: 'Replaced', functionalTest: 'passed' };

  function paidWork(email?: string): TicketState {
    const ticket = outOfWarranty(email ? { customer: { name: '张三', phone: '13812345678', email } } : {});
    act(ticket, 'quote', { parts: [{ partNumber: 'C123', quantity: 1 }] }, T0 + HOUR, ENGINEER, {
      C123: 5_000,
    });
    act(ticket, 'consent', { accepted: true }, T0 + 2 * HOUR, CLIENT);
    expect(allowedActions(ticket)).not.toContain('record-payment');
    act(ticket, 'resolve', record, T0 + 3 * HOUR, ENGINEER);
    return ticket;
  }

  it('records the consented total (method, reference), then sends the invoice number by e-mail', () => {
    const ticket = paidWork('z@example.com');
    expect(() =>
      act(
        ticket,
        'record-payment',
        { amountFen: 17_999, method: 'alipay', reference: 'A1' },
        T0 + 4 * HOUR,
        FINANCE,
      ),
    ).toThrow("amountFen must be the consented quote's total, 18000 (¥180.00)");
    expect(allowedActions(ticket)).not.toContain('send-invoice');
    const paid = act(
      ticket,
      'record-payment',
      { amountFen: 18_000, method: 'alipay', reference: 'A1' },
      T0 + 4 * HOUR,
      ENGINEER,
    );
    expect(ticket.payment).toEqual({
      amountFen: 18_000,
      method: 'alipay',
      reference: 'A1',
      at: iso(T0 + 4 * HOUR),
      actorId: 'eng-1',
    });
    expect(paid.notifications).toMatchObject([{ kind: 'payment_received', channel: 'sms' }]);
    expect(allowedActions(ticket)).not.toContain('record-payment');
    const invoiced = act(ticket, 'send-invoice', { invoiceNumber: 'INV-2026-0001' }, T0 + 5 * HOUR, FINANCE);
    expect(invoiced.notifications).toMatchObject([
      {
        kind: 'invoice_sent',
        recipientRole: 'customer',
        channel: 'email',
        data: { invoiceNumber: 'INV-2026-0001', amountFen: 18_000 },
      },
    ]);
    expect(allowedActions(ticket)).not.toContain('send-invoice');
  });

  it('refuses the invoice without the customer’s e-mail address', () => {
    const ticket = paidWork();
    act(
      ticket,
      'record-payment',
      { amountFen: 18_000, method: 'cash', reference: 'R-1' },
      T0 + 4 * HOUR,
      ENGINEER,
    );
    expect(() => act(ticket, 'send-invoice', { invoiceNumber: 'INV-2' }, T0 + 5 * HOUR, FINANCE)).toThrow(
      'the customer has no e-mail address for the invoice',
    );
  });
});

describe('remedies on a complaint’s follow-up', () => {
  const SUPERVISOR: Actor = { id: 'sup-1', role: 'supervisor' };
  const MANAGER: Actor = { id: 'mgr-1', role: 'manager' };

  /** An in-warranty repair resolved and called back with a 2-star score: a follow-up is owed. */
  function complaint(): TicketState {
    const ticket = outOfWarranty({
      product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN4', purchaseDate: '2026-06-01' },
    });
    act(ticket, 'resolve', { diagnosis: 'x', fix: 'y', functionalTest: 'passed' }, T0 + HOUR, ENGINEER);
    const scores = {
      responsiveness: 2,
      professionalism: 2,
      attitude: 2,
      resolution: 2,
      overall: 2,
      recommend: 2,
    };
    act(
      ticket,
      'callback',
      { channel: 'phone', scores, dissatisfaction: 'slow_response' },
      T0 + 2 * HOUR,
      AGENT,
    );
    expect(ticket.status).toBe('follow_up');
    return ticket;
  }

  it('a ¥50 voucher (at most the policy’s ¥100) is granted at once and the customer told', () => {
    const ticket = complaint();
    const change = act(
      ticket,
      'offer-remedy',
      { kind: 'voucher', valueFen: 5_000 },
      T0 + 3 * HOUR,
      SUPERVISOR,
    );
    expect(ticket.remedies).toMatchObject([{ id: 1, kind: 'voucher', valueFen: 5_000, status: 'granted' }]);
    expect(change.events.map((event) => event.type)).toEqual([
      'remedy_offered',
      'remedy_granted',
      'notification',
    ]);
    expect(change.notifications).toMatchObject([{ kind: 'remedy_granted', recipientRole: 'customer' }]);
    expect(ticket.clocks.remedyApproval).toBeUndefined();
  });

  it('above the policy’s value a manager approves within 1 business day; an extension moves the warranty’s end', () => {
    const ticket = complaint();
    const offered = act(
      ticket,
      'offer-remedy',
      { kind: 'extended_warranty', valueFen: 20_000, months: 6 },
      T0 + 3 * HOUR,
      SUPERVISOR,
    );
    expect(offered.notifications).toMatchObject([
      { kind: 'remedy_approval_needed', recipientRole: 'manager', data: { thresholdFen: 10_000 } },
    ]);
    expect(ticket.clocks.remedyApproval).toMatchObject({
      duration: '1bd',
      dueAt: iso(T0 + 3 * HOUR + 24 * HOUR),
    });
    expect(allowedActions(ticket)).not.toContain('offer-remedy');
    act(ticket, 'decide-remedy', { approved: true }, T0 + 4 * HOUR, MANAGER);
    expect(ticket.remedies?.[0]).toMatchObject({ status: 'granted', decidedBy: 'mgr-1' });
    expect(ticket.warranty.expiresOn).toBe('2027-12-01');
    expect(ticket.clocks.remedyApproval?.metAt).toBe(iso(T0 + 4 * HOUR));
  });

  it('a manager may reject it; one nobody decides escalates to the manager level when its clock passes', () => {
    const ticket = complaint();
    act(
      ticket,
      'offer-remedy',
      { kind: 'gifted_part', valueFen: 30_000, partNumber: 'C123' },
      T0 + 3 * HOUR,
      SUPERVISOR,
    );
    const missed = fireDue(ticket, T0 + 27 * HOUR, defaults).escalations.filter(
      (row) => row.reason === 'remedy_approval_missed',
    );
    expect(missed).toMatchObject([{ level: 2, clock: 'remedyApproval' }]);
    act(ticket, 'decide-remedy', { approved: false, reason: 'A voucher is enough' }, T0 + 28 * HOUR, MANAGER);
    expect(ticket.remedies?.[0]).toMatchObject({ status: 'rejected', reason: 'A voucher is enough' });
  });

  it('names what each kind needs', () => {
    const schema = actionInputSchema('offer-remedy');
    expect(schema.safeParse({ kind: 'gifted_part', valueFen: 100 }).error?.issues[0]?.message).toBe(
      'partNumber names the gifted part: required for gifted_part, and only for it',
    );
    expect(schema.safeParse({ kind: 'voucher', valueFen: 100, months: 3 }).error?.issues[0]?.message).toBe(
      'months is required for extended_warranty, and only for it',
    );
    expect(schema.safeParse({ kind: 'voucher', valueFen: 12.5 }).success).toBe(false);
  });
});

describe('a service record’s money is integer fen', () => {
  const record = {
    diagnosis: 'Fan',
    fix: 'Replaced',
    functionalTest: 'passed',
    parts: [{ partNumber: 'FM-220', quantity: 1, unitPriceFen: 18_000 }],
    fees: { laborFen: 8_000, visitFen: 5_000 },
  };

  it('takes unitPriceFen and laborFen/visitFen as whole fen, and refuses fractions and the old yuan names', () => {
    expect(actionInputSchema('resolve').parse(record)).toMatchObject(record);
    const fraction = actionInputSchema('resolve').safeParse({
      ...record,
      parts: [{ partNumber: 'FM-220', quantity: 1, unitPriceFen: 180.5 }],
    });
    expect(fraction.error?.issues[0]?.path).toEqual(['parts', 0, 'unitPriceFen']);
    const yuan = actionInputSchema('resolve').safeParse({ ...record, fees: { labor: 80, visit: 50 } });
    expect(yuan.error?.issues[0]).toMatchObject({ path: ['fees'], code: 'unrecognized_keys' });
  });

  it('reads a resolve recorded in yuan (a replayed history) as the same record in fen', () => {
    const legacy = {
      ...record,
      parts: [{ partNumber: 'FM-220', quantity: 2, unitPrice: 180.5, oldPartSerial: 'X' }],
      fees: { labor: 0, visit: 50 },
    };
    expect(actionInputSchema('resolve').parse(upgradeLegacyResolve(legacy))).toMatchObject({
      parts: [{ partNumber: 'FM-220', quantity: 2, unitPriceFen: 18_050, oldPartSerial: 'X' }],
      fees: { laborFen: 0, visitFen: 5_000 },
    });
    expect(upgradeLegacyResolve(record)).toEqual(record);
    expect(upgradeLegacyResolve(null)).toBeNull();
  });
});

describe('the consent tells whoever holds the ticket; the payment has a clock', () => {
  const FINANCE: Actor = { id: 'fin-1', role: 'finance' };
  const record = { diagnosis: 'Capacitor', fix: 'Replaced', functionalTest: 'passed' };
  const quote = (ticket: TicketState) =>
    act(ticket, 'quote', { parts: [{ partNumber: 'C123', quantity: 1 }] }, T0 + HOUR, ENGINEER, {
      C123: 5_000,
    });

  it('a consent goes to whoever holds the ticket (the agent who took it, the engineer once assigned)', () => {
    const ticket = outOfWarranty();
    quote(ticket);
    const consented = act(ticket, 'consent', { accepted: true }, T0 + 2 * HOUR, CLIENT);
    expect(
      consented.notifications.map((row) => [row.kind, row.recipientRole, row.channel, row.data]),
    ).toEqual([['quote_consented', 'agent', 'internal', { round: 1, totalFen: 18_000, personId: AGENT.id }]]);
    const assigned = outOfWarranty();
    assigned.assignee = 'eng-7';
    quote(assigned);
    expect(act(assigned, 'consent', { accepted: true }, T0 + 2 * HOUR, CLIENT).notifications).toMatchObject([
      { kind: 'quote_consented', recipientRole: 'engineer', data: { personId: 'eng-7' } },
    ]);
    const declined = outOfWarranty();
    quote(declined);
    expect(act(declined, 'consent', { accepted: false }, T0 + 2 * HOUR, CLIENT).notifications).toEqual([]);
  });

  it('the work of a consented quote done, the payment is owed within 3 days; missed, it escalates once', () => {
    const ticket = outOfWarranty();
    quote(ticket);
    act(ticket, 'consent', { accepted: true }, T0 + 2 * HOUR, CLIENT);
    const resolved = act(ticket, 'resolve', record, T0 + 3 * HOUR, ENGINEER);
    const due = T0 + 3 * HOUR + 72 * HOUR;
    expect(ticket.clocks.payment).toMatchObject({ duration: '3d', dueAt: iso(due), metAt: null });
    expect(resolved.events.find((event) => event.type === 'resolved')?.data.paymentDueAt).toBe(iso(due));
    const paid = structuredClone(ticket);
    act(paid, 'record-payment', { amountFen: 18_000, method: 'cash', reference: 'R-1' }, due - HOUR, FINANCE);
    expect(paid.clocks.payment?.metAt).toBe(iso(due - HOUR));
    const missed = (nowMs: number) =>
      fireDue(ticket, nowMs, defaults).escalations.filter((row) => row.reason === 'payment_missed');
    expect(missed(due - 1_000)).toEqual([]);
    expect(missed(due)).toMatchObject([{ level: 1, clock: 'payment', missedDeadline: iso(due) }]);
    expect(missed(due + HOUR)).toEqual([]);
  });

  it('no payment clock without a consented quote, nor on a ticket opened before it', () => {
    const free = outOfWarranty({
      product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN3', purchaseDate: '2026-06-01' },
    });
    act(free, 'resolve', record, T0 + 3 * HOUR, ENGINEER);
    expect(free.clocks.payment).toBeUndefined();
    const older = outOfWarranty();
    delete older.returnWaitClocks;
    quote(older);
    expect(act(older, 'consent', { accepted: true }, T0 + 2 * HOUR, CLIENT).notifications).toEqual([]);
    act(older, 'resolve', record, T0 + 3 * HOUR, ENGINEER);
    expect(older.clocks.payment).toBeUndefined();
  });

  it('takes the payment’s length from the policy file (3d by default)', () => {
    expect(parsePolicy({}).payment?.text).toBe('3d');
    expect(parsePolicy({ payment: '5bd' }).payment?.text).toBe('5bd');
    expect(() => parsePolicy({ payment: 'later' })).toThrow(/payment/);
  });
});
