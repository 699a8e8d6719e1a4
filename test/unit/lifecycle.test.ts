import { describe, expect, it } from 'vitest';
import { nextDeadline } from '../../domain/clocks';
import {
  actionInputSchema,
  allowedActions,
  applyAction,
  applyDispatchResult,
  dispatchNeeds,
  fireDue,
  holdsEngineer,
  IllegalTransitionError,
  needsDispatch,
  openTicket,
  recordOpening,
  type ActionInput,
  type ActionName,
} from '../../domain/lifecycle';
import type { SlaPolicy } from '../../domain/policy';
import { qualityDecision, sampleFraction, scoreBand } from '../../domain/quality';
import { renderNotification } from '../../domain/templates';
import { NOTIFICATION_KINDS, type Actor, type TicketIntake, type TicketState } from '../../domain/ticket';
import { formatTicketNumber, isTicketNumber } from '../../domain/ticket-number';
import { ticketView } from '../../domain/view';
import { deriveWarranty } from '../../domain/warranty';
import {
  AGENT,
  intake,
  policy,
  satisfiedCallback,
  serviceRecord,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  unhappyCallback,
} from '../support/fixtures';

/**
 * SPEC section 1, rule by rule, on the pure lifecycle the workflow runs. Monday 2026-11-23 10:00 in
 * Shanghai (02:00Z) is T0; the default policy is the customer's own numbers.
 */
const T0 = Date.parse('2026-11-23T02:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const defaults = policy({ qcSampleRate: 0 });
const ENGINEER: Actor = { id: 'eng-1', role: 'engineer' };
const MANAGER: Actor = { id: 'mgr-1', role: 'manager' };
const QC: Actor = { id: 'qc-1', role: 'qc' };
const DIRECTOR: Actor = { id: 'dir-1', role: 'director' };
const iso = (ms: number) => new Date(ms).toISOString();

function open(
  overrides: Partial<TicketIntake> = {},
  options: { policy?: SlaPolicy; repeatOf?: string } = {},
) {
  return openTicket({
    number: 'WO20261123-001',
    intake: intake(overrides),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: options.repeatOf ?? null,
    createdBy: AGENT,
    createdAtMs: T0,
    policy: options.policy ?? defaults,
  });
}

function act<A extends ActionName>(
  state: TicketState,
  action: A,
  input: ActionInput<A> | Record<string, unknown>,
  nowMs: number,
  actor: Actor = SUPERVISOR,
  slaPolicy: SlaPolicy = defaults,
) {
  return applyAction(state, action, actionInputSchema(action).parse(input) as ActionInput<A>, {
    nowMs,
    actor,
    policy: slaPolicy,
  });
}

const plan = {
  measures: 'Replace the fan motor on site',
  department: 'field-service',
  customerConfirmed: true,
};

/** Acknowledges (when new), plans and dispatches to eng-1, who accepts, books and starts. */
function inService(state: TicketState, slaPolicy: SlaPolicy = defaults): TicketState {
  if (state.status === 'new') act(state, 'acknowledge', {}, T0 + MIN, AGENT, slaPolicy);
  act(state, 'plan', plan, T0 + 2 * MIN, SUPERVISOR, slaPolicy);
  applyDispatchResult(state, ++state.dispatch.attempt, 'eng-1', T0 + 3 * MIN, slaPolicy);
  act(state, 'accept', {}, T0 + 4 * MIN, ENGINEER, slaPolicy);
  act(state, 'schedule', { slotStart: iso(T0 + 3 * HOUR) }, T0 + 5 * MIN, ENGINEER, slaPolicy);
  act(state, 'start', { mode: 'onsite' }, T0 + 3 * HOUR, ENGINEER, slaPolicy);
  return state;
}

function resolved(overrides: Partial<TicketIntake> = {}): TicketState {
  const state = inService(open(overrides));
  act(state, 'resolve', serviceRecord, T0 + 4 * HOUR, ENGINEER);
  return state;
}

describe('1.1 Intake', () => {
  it('numbers tickets WO<YYYYMMDD>-<NNN> and widens past 999', () => {
    expect(formatTicketNumber('2026-11-23', 1)).toBe('WO20261123-001');
    expect(formatTicketNumber('2026-11-23', 1000)).toBe('WO20261123-1000');
    expect(isTicketNumber('WO20261123-001')).toBe(true);
    expect(isTicketNumber('WO2026112-001')).toBe(false);
  });

  it('derives warranty from the purchase date and the warranty period', () => {
    expect(open().warranty).toEqual({ status: 'in_warranty', expiresOn: '2027-03-15' });
    expect(deriveWarranty('2025-11-23', 12, '2026-11-22')).toEqual({
      status: 'in_warranty',
      expiresOn: '2026-11-23',
    });
    expect(deriveWarranty('2025-11-22', 12, '2026-11-23').status).toBe('out_of_warranty');
    expect(deriveWarranty(undefined, 12, '2026-11-23')).toEqual({ status: 'unknown', expiresOn: null });
  });
});

describe('1.2 First response within 10 minutes', () => {
  it('escalates an unacknowledged ticket to the supervisor at 10 minutes, once', () => {
    const ticket = open();
    expect(nextDeadline(ticket)).toMatchObject({
      dueAtMs: T0 + 10 * MIN,
      summary: 'first-response SLA 10m',
    });
    expect(fireDue(ticket, T0 + 10 * MIN - 1, defaults).events).toEqual([]);
    const change = fireDue(ticket, T0 + 10 * MIN, defaults);
    expect(change.escalations).toMatchObject([
      { id: 'WO20261123-001:firstResponse:1', level: 1, reason: 'first_response_missed' },
    ]);
    expect(change.notifications).toMatchObject([{ kind: 'escalation', recipientRole: 'supervisor' }]);
    expect(ticket.escalationLevel).toBe(1);
    expect(fireDue(ticket, T0 + 11 * MIN, defaults).escalations).toEqual([]);
  });

  it('notifies the supervisor at once for a critical ticket, which keeps its 10-minute clock', () => {
    const ticket = open({ priority: 'critical' });
    expect(recordOpening(ticket).notifications).toMatchObject([
      { kind: 'critical_ticket_created', recipientRole: 'supervisor' },
    ]);
    expect(ticket.clocks.firstResponse?.dueAt).toBe(iso(T0 + 10 * MIN));
  });

  it('takes the first-response time of the ticket’s priority when the policy gives one per priority', () => {
    // Seed 002's table: normal 24 h, urgent 2 h, critical half an hour.
    const perPriority = policy({ firstResponse: { normal: '24h', urgent: '2h', critical: '30m' } });
    const urgent = open({ priority: 'urgent' }, { policy: perPriority });
    expect(urgent.clocks.firstResponse).toMatchObject({ duration: '2h', dueAt: iso(T0 + 2 * HOUR) });
    expect(fireDue(urgent, T0 + 2 * HOUR - 1, perPriority).escalations).toEqual([]);
    expect(fireDue(urgent, T0 + 2 * HOUR, perPriority).escalations).toMatchObject([
      { reason: 'first_response_missed', level: 1 },
    ]);
    expect(open({ priority: 'critical' }, { policy: perPriority }).clocks.firstResponse?.duration).toBe(
      '30m',
    );
    // A reclassified ticket's running first-response clock moves to its new priority's length.
    const normal = open({ priority: 'normal' }, { policy: perPriority });
    act(normal, 'classify', { priority: 'critical' }, T0 + 5 * MIN, SUPERVISOR, perPriority);
    expect(normal.clocks.firstResponse).toMatchObject({ duration: '30m', dueAt: iso(T0 + 30 * MIN) });
  });

  it('keeps one first-response time for every priority in a policy snapshot of the single form', () => {
    expect(open({ priority: 'urgent' }).clocks.firstResponse?.duration).toBe('10m');
    expect(open({ priority: 'critical' }).clocks.firstResponse?.dueAt).toBe(iso(T0 + 10 * MIN));
  });

  it('notifies the supervisor at creation for an urgent ticket too (seed 002), not for a normal one', () => {
    expect(recordOpening(open({ priority: 'urgent' })).notifications).toMatchObject([
      {
        kind: 'urgent_ticket_created',
        recipientRole: 'supervisor',
        channel: 'internal',
        data: { priority: 'urgent' },
      },
    ]);
    expect(recordOpening(open({ priority: 'urgent' }), { urgentNotice: false }).notifications).toEqual([]);
    expect(recordOpening(open()).notifications).toEqual([]);
  });

  it('stops the clock when someone acknowledges in time', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + 9 * MIN, AGENT);
    expect(ticket.clocks.firstResponse?.metAt).toBe(iso(T0 + 9 * MIN));
    expect(fireDue(ticket, T0 + 10 * MIN, defaults).escalations).toEqual([]);
  });
});

describe('1.3 Analysis and plan', () => {
  it.each([
    ['normal', 2 * HOUR],
    ['urgent', 30 * MIN],
    ['critical', 10 * MIN],
  ] as const)('makes a %s plan due %i ms after acknowledgement', (priority, ms) => {
    const ticket = open({ priority });
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    expect(ticket.clocks.plan?.dueAt).toBe(iso(T0 + MIN + ms));
  });

  it('escalates a missing plan, and records measures, department, deadline and confirmation', () => {
    const ticket = open({ priority: 'urgent' });
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    expect(fireDue(ticket, T0 + 31 * MIN, defaults).escalations).toMatchObject([{ reason: 'plan_missed' }]);
    act(ticket, 'plan', { ...plan, deadline: '2026-11-24T10:00:00+08:00' }, T0 + 40 * MIN);
    expect(ticket.status).toBe('planned');
    expect(ticket.plans[0]?.input).toMatchObject({ ...plan, kind: 'service' });
    expect(needsDispatch(ticket)).toBe(true);
  });

  it('makes a plan’s own deadline a clock: escalates once if the plan is not carried out by then', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0, AGENT);
    const deadline = iso(T0 + DAY);
    const planned = act(ticket, 'plan', { ...plan, deadline }, T0 + 10 * MIN);
    expect(ticket.clocks.planDeadline).toMatchObject({
      dueAt: deadline,
      duration: `${(DAY - 10 * MIN) / 1000}s`,
    });
    expect(planned.events.find((event) => event.type === 'planned')?.data).toMatchObject({
      deadlineDueAt: deadline,
    });
    expect(fireDue(ticket, T0 + DAY - 1, defaults).escalations).toEqual([]);
    expect(fireDue(ticket, T0 + DAY, defaults).escalations).toMatchObject([
      {
        id: 'WO20261123-001:planDeadline:1',
        clock: 'planDeadline',
        level: 1,
        reason: 'plan_deadline_missed',
      },
    ]);
    expect(fireDue(ticket, T0 + DAY + MIN, defaults).escalations).toEqual([]);
  });

  it('stops a plan deadline when the ticket is resolved, or a later plan without one replaces it', () => {
    const resolvedInTime = inService(open());
    act(resolvedInTime, 'plan', { ...plan, deadline: iso(T0 + 5 * HOUR) }, T0 + 3 * HOUR + MIN);
    act(resolvedInTime, 'resolve', serviceRecord, T0 + 4 * HOUR, ENGINEER);
    expect(resolvedInTime.clocks.planDeadline?.metAt).toBe(iso(T0 + 4 * HOUR));
    expect(fireDue(resolvedInTime, T0 + 5 * HOUR, defaults).escalations).toEqual([]);

    const replaced = open();
    act(replaced, 'acknowledge', {}, T0, AGENT);
    act(replaced, 'plan', { ...plan, dispatch: false, deadline: iso(T0 + HOUR) }, T0 + MIN);
    act(replaced, 'plan', { ...plan, dispatch: false }, T0 + 2 * MIN);
    expect(fireDue(replaced, T0 + HOUR, defaults).escalations).toEqual([]);
  });

  it('refuses a plan deadline that has passed, and keeps no clock for a ticket from before', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0, AGENT);
    expect(() => act(ticket, 'plan', { ...plan, deadline: iso(T0) }, T0 + MIN)).toThrow(
      'cannot plan this acknowledged ticket: deadline must be in the future',
    );
    const before = open();
    delete before.planDeadlines;
    act(before, 'acknowledge', {}, T0, AGENT);
    act(before, 'plan', { ...plan, deadline: iso(T0 + HOUR) }, T0 + MIN);
    expect(before.clocks.planDeadline).toBeUndefined();
  });

  it('sends a major complaint to the manager at once; the meeting’s plan names its owner, who hears of a missed deadline', () => {
    const major = open({ category: 'complaint', priority: 'critical' });
    expect(recordOpening(major).notifications.map((n) => [n.kind, n.recipientRole])).toEqual([
      ['critical_ticket_created', 'supervisor'],
      ['major_complaint', 'manager'],
    ]);
    act(major, 'acknowledge', {}, T0, AGENT);
    const meeting = {
      ...plan,
      kind: 'meeting',
      owner: 'sup-3',
      deadline: iso(T0 + 12 * HOUR),
      dispatch: false,
    };
    act(major, 'plan', meeting, T0 + 20 * MIN, MANAGER);
    expect(major.status).toBe('planned');
    expect(major.clocks.planDeadline?.dueAt).toBe(iso(T0 + 12 * HOUR));
    const missed = fireDue(major, T0 + 12 * HOUR, defaults);
    expect(missed.escalations).toMatchObject([{ clock: 'planDeadline', reason: 'plan_deadline_missed' }]);
    expect(missed.notifications.map((n) => [n.recipientRole, n.data.personId ?? n.data.superiorOf])).toEqual([
      ['supervisor', 'sup-3'],
      ['supervisor', 'sup-3'],
    ]);

    // A complaint reclassified as critical becomes major then; a plain ticket takes no meeting plan.
    const complaint = open({ category: 'complaint' });
    const classified = act(complaint, 'classify', { priority: 'critical' }, T0 + MIN);
    expect(classified.notifications.map((n) => n.kind)).toEqual([
      'critical_ticket_created',
      'major_complaint',
    ]);
    const plain = open({ priority: 'critical' });
    act(plain, 'acknowledge', {}, T0, AGENT);
    expect(() => act(plain, 'plan', meeting, T0 + MIN, MANAGER)).toThrow(
      'a meeting plan is recorded for a major complaint (a critical complaint)',
    );
    expect(actionInputSchema('plan').safeParse({ ...plan, kind: 'meeting' }).error?.issues).toMatchObject([
      { path: ['owner'], message: 'a meeting plan names its owner' },
      { path: ['deadline'], message: 'a meeting plan names its deadline' },
    ]);
  });

  it('needs no dispatch for a plan that says so (advice given by phone)', () => {
    const ticket = open({ category: 'consultation' });
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', { ...plan, dispatch: false }, T0 + 2 * MIN, AGENT);
    expect(needsDispatch(ticket)).toBe(false);
    act(ticket, 'resolve', { ...serviceRecord, parts: [] }, T0 + 3 * MIN, AGENT);
    expect(ticket.status).toBe('resolved');
  });
});

describe('1.4 Dispatch', () => {
  function planned(): TicketState {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', plan, T0 + 2 * MIN);
    return ticket;
  }

  it("searches with the ticket's product line, place and the policy's dispatch radius (5 km unless set)", () => {
    const location = { latitude: 31.2304, longitude: 121.4737 };
    const ticket = open({ customer: { name: '张三', phone: '13812345678', region: 'xuhui', location } });
    expect(dispatchNeeds(ticket, defaults)).toMatchObject({ region: 'xuhui', location, preferWithinKm: 5 });
    expect(dispatchNeeds(ticket, policy({ dispatch: { radiusKm: 2 } })).preferWithinKm).toBe(2);
    const { dispatch: _dispatch, ...olderSnapshot } = defaults;
    expect(dispatchNeeds(ticket, olderSnapshot).preferWithinKm).toBe(5);
  });

  it('offers the ticket to the engineer found and gives them 15 minutes to accept', () => {
    const ticket = planned();
    const change = applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    expect(ticket).toMatchObject({ status: 'assigned', assignee: 'eng-1' });
    expect(ticket.clocks.dispatchAccept?.dueAt).toBe(iso(T0 + 18 * MIN));
    expect(change.notifications).toMatchObject([{ kind: 'dispatch_offer', data: { engineerId: 'eng-1' } }]);
    expect(holdsEngineer(ticket)).toBe(true);
  });

  it('re-dispatches on a decline and keeps the reason', () => {
    const ticket = planned();
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    act(ticket, 'decline', { reason: 'Out of parts' }, T0 + 5 * MIN, ENGINEER);
    expect(ticket).toMatchObject({ status: 'planned', assignee: null });
    expect(ticket.dispatch.declines).toEqual([
      { engineerId: 'eng-1', reason: 'Out of parts', at: iso(T0 + 5 * MIN) },
    ]);
    expect(needsDispatch(ticket)).toBe(true);
    expect(holdsEngineer(ticket)).toBe(false);
  });

  it('re-dispatches when the engineer stays silent for 15 minutes, recording why', () => {
    const ticket = planned();
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    const change = fireDue(ticket, T0 + 18 * MIN, defaults);
    expect(change.events.map((event) => event.type)).toEqual(['acceptance_missed']);
    expect(change.escalations).toEqual([]);
    expect(ticket.dispatch.declines[0]).toMatchObject({
      engineerId: 'eng-1',
      reason: 'no answer within 15m',
    });
    expect(needsDispatch(ticket)).toBe(true);
  });

  it('goes to manual dispatch and notifies the supervisor when nobody matches', () => {
    const ticket = planned();
    const change = applyDispatchResult(ticket, ++ticket.dispatch.attempt, null, T0 + 3 * MIN, defaults);
    expect(ticket.dispatch).toMatchObject({ manual: true, pending: false });
    expect(change.notifications).toMatchObject([
      { kind: 'manual_dispatch_needed', recipientRole: 'supervisor' },
    ]);
    act(ticket, 'assign', { engineerId: 'eng-9' }, T0 + 20 * MIN);
    expect(ticket).toMatchObject({ status: 'assigned', assignee: 'eng-9', dispatch: { manual: false } });
  });

  it('records a manual assign that knowingly went past the engineer’s capacity', () => {
    const ticket = planned();
    const usual = act(ticket, 'assign', { engineerId: 'eng-9' }, T0 + 3 * MIN);
    expect(usual.events[0]?.data).not.toHaveProperty('overCapacity');
    const overloaded = act(ticket, 'assign', { engineerId: 'eng-8', overCapacity: true }, T0 + 4 * MIN);
    expect(overloaded.events[0]).toMatchObject({
      type: 'assigned',
      data: { engineerId: 'eng-8', how: 'manual', overCapacity: true },
    });
  });

  it('ignores a dispatch answer the ticket has moved past, but records it', () => {
    const ticket = planned();
    const attempt = ++ticket.dispatch.attempt;
    act(ticket, 'assign', { engineerId: 'eng-9' }, T0 + 3 * MIN);
    const change = applyDispatchResult(ticket, attempt, 'eng-1', T0 + 4 * MIN, defaults);
    expect(ticket.assignee).toBe('eng-9');
    expect(change.events.map((event) => event.type)).toEqual(['dispatch_superseded']);
  });
});

describe('1.5 Appointment', () => {
  it('owes customer contact within 30 minutes of accepting', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', plan, T0 + 2 * MIN);
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    act(ticket, 'accept', {}, T0 + 4 * MIN, ENGINEER);
    expect(ticket.clocks.customerContact?.dueAt).toBe(iso(T0 + 34 * MIN));
    expect(fireDue(ticket, T0 + 34 * MIN, defaults).escalations).toMatchObject([
      { reason: 'customer_contact_missed', level: 1 },
    ]);
  });

  it('reminds 1 hour before the slot, and a reschedule moves the reminder', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', plan, T0 + 2 * MIN);
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    act(ticket, 'accept', {}, T0 + 4 * MIN, ENGINEER);
    act(ticket, 'schedule', { slotStart: iso(T0 + 5 * HOUR) }, T0 + 10 * MIN, ENGINEER);
    expect(ticket.clocks.customerContact?.metAt).toBe(iso(T0 + 10 * MIN));
    expect(ticket.clocks.appointmentReminder?.dueAt).toBe(iso(T0 + 4 * HOUR));
    act(ticket, 'schedule', { slotStart: iso(T0 + 8 * HOUR) }, T0 + 20 * MIN, ENGINEER);
    expect(ticket.clocks.appointmentReminder).toMatchObject({ cycle: 2, dueAt: iso(T0 + 7 * HOUR) });
    expect(fireDue(ticket, T0 + 4 * HOUR, defaults).notifications).toEqual([]);
    const reminder = fireDue(ticket, T0 + 7 * HOUR, defaults);
    expect(reminder.notifications).toMatchObject([
      { kind: 'appointment_reminder', recipientRole: 'customer', channel: 'sms' },
      { kind: 'appointment_reminder', recipientRole: 'engineer', data: { engineerId: 'eng-1' } },
    ]);
  });

  it('refuses a slot in the past', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', plan, T0 + 2 * MIN);
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    act(ticket, 'accept', {}, T0 + 4 * MIN, ENGINEER);
    expect(() => act(ticket, 'schedule', { slotStart: iso(T0) }, T0 + 10 * MIN, ENGINEER)).toThrow(
      'slotStart must be in the future',
    );
  });
});

describe('1.6 Service', () => {
  it('records diagnosis, cause, fix, parts and fees (free under warranty), test and confirmation', () => {
    const ticket = resolved();
    const record = ticket.serviceRecords[0]?.input;
    expect(record).toMatchObject({
      diagnosis: 'Outdoor fan motor seized',
      rootCause: 'Worn bearing',
      functionalTest: 'passed',
      customerConfirmation: { signatureRef: 'sig-0001' },
      parts: [{ partNumber: 'FM-220', unitPriceFen: 18_000, freeUnderWarranty: true, chargedFen: 0 }],
      partsCostFen: 18_000,
      visitCostFen: 5_000,
      chargedFen: 0,
      feesFreeUnderWarranty: true,
      engineerId: 'eng-1',
    });
  });

  it('charges the visit under warranty when the policy says so, or the policy is older than the rule', () => {
    const { warrantyCoversFees: _absent, ...olderPolicy } = defaults;
    for (const slaPolicy of [policy({ qcSampleRate: 0, warrantyCoversFees: false }), olderPolicy]) {
      const ticket = inService(open({}, { policy: slaPolicy }), slaPolicy);
      act(ticket, 'resolve', serviceRecord, T0 + 4 * HOUR, ENGINEER, slaPolicy);
      expect(ticket.serviceRecords[0]?.input).toMatchObject({ chargedFen: 5_000 });
    }
  });

  it('charges parts out of warranty, once the customer consented to the quote', () => {
    const ticket = open({
      product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN9', purchaseDate: '2020-01-01' },
    });
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    expect(() => act(ticket, 'resolve', serviceRecord, T0 + 2 * MIN, AGENT)).toThrow(
      'out of warranty: the customer consents to a quote first',
    );
    applyAction(
      ticket,
      'quote',
      actionInputSchema('quote').parse({ parts: [{ partNumber: 'FM-220', quantity: 1 }] }),
      {
        nowMs: T0 + 2 * MIN,
        actor: AGENT,
        policy: defaults,
        prices: { 'FM-220': 18_000 },
      },
    );
    act(ticket, 'consent', { accepted: true }, T0 + 3 * MIN, AGENT);
    expect(ticket.status).toBe('acknowledged');
    inService(ticket);
    act(ticket, 'resolve', serviceRecord, T0 + 4 * HOUR, ENGINEER);
    expect(ticket.serviceRecords[0]?.input).toMatchObject({
      parts: [{ chargedFen: 18_000 }],
      chargedFen: 23_000,
      quoteRound: 1,
      quotedFen: 31_000,
    });
  });

  it('holds a return or exchange until a manager approves it', () => {
    const ticket = open({
      serviceType: 'exchange',
      product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN9', purchaseDate: '2026-11-20' },
    });
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    expect(() => act(ticket, 'resolve', serviceRecord, T0 + 2 * MIN, AGENT)).toThrow(
      'a return or exchange needs a manager’s approve first',
    );
    const request = { returnReason: 'quality_defect', proofs: ['purchase_proof', 'product'] };
    act(ticket, 'request-return', request, T0 + 2 * MIN, AGENT);
    act(ticket, 'approve', { note: 'Exchange approved' }, T0 + 3 * MIN, MANAGER);
    expect(ticket.approval).toMatchObject({ actor: MANAGER });
    // An approved exchange is not serviced: a replacement is sent (see returns.test.ts).
    expect(ticket.status).toBe('exchanging');
    expect(() => act(ticket, 'resolve', serviceRecord, T0 + 4 * MIN, AGENT)).toThrow(IllegalTransitionError);
    expect(() => act(open(), 'approve', {}, T0, MANAGER)).toThrow(IllegalTransitionError);
  });
});

describe('a remote service that fails becomes an on-site visit on the same ticket (seed 004)', () => {
  function remoteService(): TicketState {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', plan, T0 + 2 * MIN);
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    act(ticket, 'accept', {}, T0 + 4 * MIN, ENGINEER);
    act(ticket, 'start', { mode: 'remote' }, T0 + 5 * MIN, ENGINEER);
    return ticket;
  }

  it('goes back to booking a visit: same number and engineer, customer contact owed within 30 minutes, resolution clock running on', () => {
    const ticket = remoteService();
    const resolutionDue = ticket.clocks.resolution?.dueAt;
    const change = act(ticket, 'go-onsite', { reason: 'Video reset did not help' }, T0 + 20 * MIN, ENGINEER);
    expect(ticket).toMatchObject({
      number: 'WO20261123-001',
      status: 'accepted',
      assignee: 'eng-1',
      appointment: null,
      onsiteSince: iso(T0 + 20 * MIN),
    });
    expect(ticket.clocks.customerContact).toMatchObject({ dueAt: iso(T0 + 50 * MIN), metAt: null });
    expect(ticket.clocks.resolution).toMatchObject({ dueAt: resolutionDue, metAt: null });
    expect(change.events).toMatchObject([
      {
        type: 'converted_onsite',
        data: { reason: 'Video reset did not help', engineerId: 'eng-1', contactDueAt: iso(T0 + 50 * MIN) },
      },
    ]);
    expect(fireDue(ticket, T0 + 50 * MIN, defaults).escalations).toMatchObject([
      { reason: 'customer_contact_missed', level: 1 },
    ]);
  });

  it('continues on site: a booked visit, its reminder, then service started onsite (remote refused)', () => {
    const ticket = remoteService();
    act(ticket, 'go-onsite', { reason: 'Needs a new capacitor' }, T0 + 20 * MIN, ENGINEER);
    act(ticket, 'schedule', { slotStart: iso(T0 + 5 * HOUR) }, T0 + 30 * MIN, ENGINEER);
    expect(ticket.clocks.appointmentReminder?.dueAt).toBe(iso(T0 + 4 * HOUR));
    expect(() => act(ticket, 'start', { mode: 'remote' }, T0 + 5 * HOUR, ENGINEER)).toThrow(
      'the remote service failed and the ticket was converted to an on-site visit: start it onsite',
    );
    act(ticket, 'start', { mode: 'onsite' }, T0 + 5 * HOUR, ENGINEER);
    expect(ticket.status).toBe('in_service');
    expect(allowedActions(ticket)).not.toContain('go-onsite');
  });

  it('is refused for a service that started on site, and before service, naming what is allowed', () => {
    const onsite = open();
    act(onsite, 'acknowledge', {}, T0 + MIN, AGENT);
    act(onsite, 'plan', plan, T0 + 2 * MIN);
    applyDispatchResult(onsite, ++onsite.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    act(onsite, 'accept', {}, T0 + 4 * MIN, ENGINEER);
    expect(() => act(onsite, 'go-onsite', { reason: 'x' }, T0 + 5 * MIN, ENGINEER)).toThrow(
      'cannot go-onsite a ticket that is accepted; allowed now:',
    );
    act(onsite, 'start', { mode: 'onsite' }, T0 + 5 * MIN, ENGINEER);
    expect(() => act(onsite, 'go-onsite', { reason: 'x' }, T0 + 6 * MIN, ENGINEER)).toThrow(
      'cannot go-onsite this in_service ticket: only a service that started remotely converts to an on-site visit',
    );
    expect(allowedActions(remoteService())).toContain('go-onsite');
  });
});

describe('1.7 Resolution target', () => {
  it('gives a normal ticket 5 business days, an urgent one 3, a critical one 7', () => {
    // Monday 10:00 → next Monday 10:00; → Thursday 10:00; → Wednesday next week 10:00.
    expect(open().clocks.resolution?.dueAt).toBe('2026-11-30T02:00:00.000Z');
    expect(open({ priority: 'urgent' }).clocks.resolution?.dueAt).toBe('2026-11-26T02:00:00.000Z');
    expect(open({ priority: 'critical' }).clocks.resolution?.dueAt).toBe('2026-12-02T02:00:00.000Z');
  });

  it('owes a critical ticket a temporary plan within 24 hours', () => {
    const ticket = open({ priority: 'critical' });
    expect(ticket.clocks.criticalTemporaryPlan?.dueAt).toBe(iso(T0 + DAY));
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', { ...plan, kind: 'temporary' }, T0 + 5 * MIN);
    expect(ticket.clocks.criticalTemporaryPlan?.metAt).toBe(iso(T0 + 5 * MIN));
  });

  it('escalates a missed resolution deadline', () => {
    const ticket = open({ priority: 'urgent' });
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', { ...plan, dispatch: false }, T0 + 2 * MIN);
    const change = fireDue(ticket, Date.parse('2026-11-26T02:00:00Z'), defaults);
    expect(change.escalations.map((e) => e.reason)).toContain('resolution_missed');
  });

  it('moves running deadlines at once when the priority changes', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    const change = act(
      ticket,
      'classify',
      { priority: 'urgent', reason: 'Customer has no heating' },
      T0 + 5 * MIN,
    );
    expect(ticket.clocks.plan?.dueAt).toBe(iso(T0 + 31 * MIN));
    expect(ticket.clocks.resolution?.dueAt).toBe('2026-11-26T02:00:00.000Z');
    expect(change.events[0]?.data).toMatchObject({
      from: { priority: 'normal' },
      to: { priority: 'urgent' },
    });
    act(ticket, 'classify', { priority: 'critical' }, T0 + 6 * MIN);
    expect(ticket.clocks.plan?.dueAt).toBe(iso(T0 + 11 * MIN));
    expect(ticket.clocks.criticalTemporaryPlan?.dueAt).toBe(iso(T0 + 6 * MIN + DAY));
  });
});

describe('1.8 Quality check', () => {
  it('samples ordinary tickets deterministically at the configured rate', () => {
    const drawn = Array.from({ length: 10_000 }, (_, index) => sampleFraction(`WO20261123-${index}:1`) < 0.3);
    const rate = drawn.filter(Boolean).length / drawn.length;
    expect(rate).toBeGreaterThan(0.28);
    expect(rate).toBeLessThan(0.32);
    expect(sampleFraction('WO20261123-001:1')).toBe(sampleFraction('WO20261123-001:1'));
  });

  it('reviews every complaint and every repeat fault', () => {
    const complaint = open({ category: 'complaint' });
    expect(qualityDecision(complaint, 0)).toEqual({ required: true, reason: 'complaint' });
    const repeat = open({}, { repeatOf: 'WO20261001-007' });
    expect(qualityDecision(repeat, 0)).toEqual({ required: true, reason: 'repeat' });
    expect(qualityDecision(open(), 0)).toEqual({ required: false, reason: 'not_sampled' });
    expect(qualityDecision(open(), 1)).toEqual({ required: true, reason: 'sampled' });
  });

  it('bands scores: ≥ 90 excellent, 70–89 pass, < 70 fail', () => {
    expect([100, 90, 89, 70, 69, 0].map(scoreBand)).toEqual([
      'excellent',
      'excellent',
      'pass',
      'pass',
      'fail',
      'fail',
    ]);
  });

  it('sends a failed review back for re-service; a passed one on to the callback', () => {
    const ticket = resolved({ category: 'complaint' });
    expect(ticket.status).toBe('quality_check');
    act(
      ticket,
      'qc-review',
      { score: 55, comment: 'Noise remains', responsible: { id: 'eng-1', role: 'engineer' } },
      T0 + 5 * HOUR,
      QC,
    );
    expect(ticket).toMatchObject({ status: 'acknowledged', reservices: 1, assignee: null });
    expect(ticket.clocks.resolution).toMatchObject({ cycle: 2, metAt: null });
    inService(ticket);
    act(ticket, 'resolve', serviceRecord, T0 + 6 * HOUR, ENGINEER);
    act(ticket, 'qc-review', { score: 92 }, T0 + 7 * HOUR, QC);
    expect(ticket.status).toBe('resolved');
    expect(ticket.clocks.callback?.dueAt).toBe(iso(T0 + 7 * HOUR + DAY));
  });
});

describe('1.9 Callback within 24 hours', () => {
  it('closes on a satisfied callback', () => {
    const ticket = resolved();
    expect(ticket.clocks.callback?.dueAt).toBe(iso(T0 + 4 * HOUR + DAY));
    act(ticket, 'callback', satisfiedCallback, T0 + 5 * HOUR, AGENT);
    expect(ticket).toMatchObject({ status: 'closed', closure: { reason: 'customer_satisfied' } });
  });

  it('sends the survey by SMS and escalates to the agent who acknowledged and their supervisor when the callback is missed', () => {
    const ticket = resolved();
    const change = fireDue(ticket, T0 + 4 * HOUR + DAY, defaults);
    expect(change.escalations).toMatchObject([{ reason: 'callback_missed', level: 1 }]);
    expect(change.notifications).toMatchObject([
      { kind: 'escalation', recipientRole: 'agent', data: { personId: AGENT.id } },
      { kind: 'escalation', recipientRole: 'supervisor', data: { superiorOf: AGENT.id } },
      { kind: 'sms_survey', recipientRole: 'customer', channel: 'sms' },
    ]);
  });
});

describe('1.10 Complaint follow-up within 1 hour', () => {
  it('opens a follow-up on any score ≤ 3 and escalates a miss to the manager', () => {
    const ticket = resolved();
    act(ticket, 'callback', unhappyCallback, T0 + 5 * HOUR, AGENT);
    expect(ticket.status).toBe('follow_up');
    const change = fireDue(ticket, T0 + 6 * HOUR, defaults);
    expect(change.escalations).toMatchObject([{ reason: 'complaint_follow_up_missed', level: 2 }]);
    expect(change.notifications).toMatchObject([{ recipientRole: 'manager' }]);
  });

  it('treats a customer marked "average" as a complaint even with good scores', () => {
    const ticket = resolved();
    act(ticket, 'callback', { ...satisfiedCallback, satisfaction: 'average' }, T0 + 5 * HOUR, AGENT);
    expect(ticket.status).toBe('follow_up');
  });

  it('escalates a second complaint to the director, who owes a plan within 48 hours', () => {
    const ticket = resolved();
    act(ticket, 'callback', unhappyCallback, T0 + 5 * HOUR, AGENT);
    act(
      ticket,
      'follow-up',
      { contactMade: true, cause: 'Rude', improvementPlan: 'Revisit' },
      T0 + 5.5 * HOUR,
    );
    const second = act(ticket, 'callback', unhappyCallback, T0 + 6 * HOUR, AGENT);
    expect(second.escalations).toMatchObject([
      { id: 'WO20261123-001:secondComplaint:2', level: 3, reason: 'second_complaint' },
    ]);
    expect(ticket.escalationLevel).toBe(3);
    expect(ticket.clocks.directorPlan?.dueAt).toBe(iso(T0 + 6 * HOUR + 2 * DAY));
    act(ticket, 'plan', { ...plan, kind: 'director' }, T0 + 30 * HOUR, DIRECTOR);
    expect(ticket.clocks.directorPlan?.metAt).toBe(iso(T0 + 30 * HOUR));
  });
});

describe('1.11 Escalation chain', () => {
  it('climbs one level when nobody acknowledges within the escalation step, up to the director', () => {
    const ticket = open();
    fireDue(ticket, T0 + 10 * MIN, defaults);
    const second = fireDue(ticket, T0 + 40 * MIN, defaults);
    expect(second.escalations).toMatchObject([
      { id: 'WO20261123-001:firstResponse:1:L2', level: 2, reason: 'escalation_not_acknowledged' },
    ]);
    expect(second.escalationUpdates).toEqual([
      { id: 'WO20261123-001:firstResponse:1', supersededBy: 'WO20261123-001:firstResponse:1:L2' },
    ]);
    expect(fireDue(ticket, T0 + 70 * MIN, defaults).escalations).toMatchObject([{ level: 3 }]);
    expect(nextDeadline(ticket)?.summary).not.toMatch(/escalation step/);
    expect(ticket.escalationLevel).toBe(3);
  });

  it('stops climbing once acknowledged', () => {
    const ticket = open();
    fireDue(ticket, T0 + 10 * MIN, defaults);
    const ack = act(ticket, 'escalation-ack', {}, T0 + 20 * MIN);
    expect(ack.escalationUpdates).toMatchObject([
      { id: 'WO20261123-001:firstResponse:1', acknowledgedBy: 'sup-1' },
    ]);
    expect(fireDue(ticket, T0 + 40 * MIN, defaults).escalations).toEqual([]);
    expect(() => act(ticket, 'escalation-ack', {}, T0 + 41 * MIN)).toThrow('there is no open escalation');
  });
});

describe('escalation reach: the person responsible and their superior (seed 002)', () => {
  it('tells the engineer holding a missed resolution at once, and their supervisor at L1', () => {
    const ticket = inService(open());
    const change = fireDue(ticket, Date.parse('2026-11-30T02:00:00Z'), defaults);
    expect(change.escalations).toMatchObject([{ reason: 'resolution_missed', level: 1 }]);
    expect(ticket.escalations[0]?.responsible).toEqual({ id: 'eng-1', role: 'engineer' });
    expect(change.notifications.map((n) => [n.kind, n.recipientRole, n.data])).toEqual([
      ['escalation', 'engineer', expect.objectContaining({ personId: 'eng-1', level: 1 })],
      ['escalation', 'supervisor', expect.objectContaining({ superiorOf: 'eng-1', level: 1 })],
    ]);
    expect(change.events.find((event) => event.type === 'escalated')?.data).toMatchObject({
      responsibleId: 'eng-1',
    });
  });

  it('keeps the person on each climb: the level’s notice goes to their superior of that level', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0, AGENT);
    fireDue(ticket, T0 + 2 * HOUR, defaults);
    const climb = fireDue(ticket, T0 + 2 * HOUR + 30 * MIN, defaults);
    expect(climb.escalations).toMatchObject([{ level: 2, reason: 'escalation_not_acknowledged' }]);
    expect(climb.notifications.map((n) => [n.recipientRole, n.data.superiorOf, n.data.personId])).toEqual([
      ['manager', AGENT.id, undefined],
    ]);
    expect(ticket.escalations.map((escalation) => escalation.responsible?.id)).toEqual([AGENT.id, AGENT.id]);
  });

  it('falls back to the role’s inbox when no one person holds the clock', () => {
    const ticket = open();
    const change = fireDue(ticket, T0 + 10 * MIN, defaults);
    expect(ticket.escalations[0]?.responsible).toBeUndefined();
    expect(change.notifications.map((n) => [n.recipientRole, n.data])).toEqual([
      [
        'supervisor',
        { escalationId: 'WO20261123-001:firstResponse:1', level: 1, reason: 'first_response_missed' },
      ],
    ]);
  });
});

describe('1.12 Hold', () => {
  it('pauses the resolution clock (not the first-response one) and resumes with the time left', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    // Monday 10:00 + 5bd = Monday 30th 10:00. Hold Tue 24th 10:00 → Thu 26th 10:00: 2 business days.
    act(ticket, 'hold', { reason: 'Customer travelling' }, Date.parse('2026-11-24T02:00:00Z'));
    expect(ticket.status).toBe('on_hold');
    expect(nextDeadline(ticket)?.summary).toBe('plan 2h');
    act(ticket, 'resume', {}, Date.parse('2026-11-26T02:00:00Z'));
    expect(ticket.status).toBe('acknowledged');
    expect(ticket.clocks.resolution?.dueAt).toBe('2026-12-02T02:00:00.000Z');
  });

  it('keeps a held ticket from escalating on resolution while the first-response clock still runs', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    act(ticket, 'plan', { ...plan, dispatch: false }, T0 + 2 * MIN);
    act(ticket, 'hold', { reason: 'Waiting for the customer' }, T0 + 3 * MIN);
    expect(fireDue(ticket, Date.parse('2026-12-10T02:00:00Z'), defaults).escalations).toEqual([]);
  });
});

describe('warnings before a breach (超时预警, policy warnAt)', () => {
  const warning = policy({ qcSampleRate: 0, warnAt: 0.8 });
  const warningsOf = (change: ReturnType<typeof fireDue>) =>
    change.notifications.filter((notification) => notification.kind === 'clock_warning');

  it('warns at 80 % of the first-response clock, once, to the agents’ inbox, then escalates at 100 %', () => {
    const ticket = open({}, { policy: warning });
    expect(ticket.clocks.firstResponse?.warnAt).toBe(iso(T0 + 8 * MIN));
    expect(nextDeadline(ticket)).toMatchObject({
      dueAtMs: T0 + 8 * MIN,
      summary: 'first-response SLA 10m warning',
    });
    expect(fireDue(ticket, T0 + 8 * MIN - 1, warning).events).toEqual([]);
    const warned = fireDue(ticket, T0 + 8 * MIN, warning);
    expect(warned.events.map((event) => event.type)).toEqual(['sla_warning', 'notification']);
    expect(warningsOf(warned)).toMatchObject([
      {
        recipientRole: 'agent',
        channel: 'internal',
        data: { clock: 'firstResponse', dueAt: iso(T0 + 10 * MIN) },
      },
    ]);
    expect(warned.escalations).toEqual([]);
    expect(ticket.clocks.firstResponse?.warnedAt).toBe(iso(T0 + 8 * MIN));
    expect(nextDeadline(ticket)?.dueAtMs).toBe(T0 + 10 * MIN);
    expect(fireDue(ticket, T0 + 9 * MIN, warning).events).toEqual([]);
    const escalated = fireDue(ticket, T0 + 10 * MIN, warning);
    expect(warningsOf(escalated)).toEqual([]);
    expect(escalated.escalations).toMatchObject([{ reason: 'first_response_missed' }]);
  });

  it('sends none for a clock stopped before its warning', () => {
    const ticket = open({}, { policy: warning });
    act(ticket, 'acknowledge', {}, T0 + 7 * MIN, AGENT, warning);
    expect(warningsOf(fireDue(ticket, T0 + 8 * MIN, warning))).toEqual([]);
    expect(ticket.clocks.firstResponse?.warnedAt).toBeUndefined();
  });

  it('tells the person holding the ticket: the agent who acknowledged, then the assigned engineer', () => {
    const ticket = open({}, { policy: warning });
    act(ticket, 'acknowledge', {}, T0, AGENT, warning);
    // The 2-hour plan warns at 96 minutes, to the agent who acknowledged.
    expect(ticket.clocks.plan?.warnAt).toBe(iso(T0 + 96 * MIN));
    expect(warningsOf(fireDue(ticket, T0 + 96 * MIN, warning))).toMatchObject([
      { recipientRole: 'agent', data: { clock: 'plan', personId: AGENT.id } },
    ]);
    act(ticket, 'plan', plan, T0 + 100 * MIN, SUPERVISOR, warning);
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 101 * MIN, warning);
    act(ticket, 'accept', {}, T0 + 102 * MIN, ENGINEER, warning);
    // Customer contact (30 min from accepting) warns the engineer at 24 minutes.
    expect(warningsOf(fireDue(ticket, T0 + 126 * MIN, warning))).toMatchObject([
      { recipientRole: 'engineer', data: { clock: 'customerContact', personId: 'eng-1' } },
    ]);
  });

  it('counts a business-day clock’s warning in working time and moves it with a hold', () => {
    const ticket = open({}, { policy: warning });
    // 5bd from Monday 10:00 is 45 working hours; 80 % is 36: Friday 10:00.
    expect(ticket.clocks.resolution?.warnAt).toBe('2026-11-27T02:00:00.000Z');
    act(ticket, 'acknowledge', {}, T0 + MIN, AGENT, warning);
    act(
      ticket,
      'hold',
      { reason: 'Customer travelling' },
      Date.parse('2026-11-24T02:00:00Z'),
      SUPERVISOR,
      warning,
    );
    act(ticket, 'resume', {}, Date.parse('2026-11-26T02:00:00Z'), SUPERVISOR, warning);
    // Two working days on hold: the warning moves from Friday to Tuesday, as the deadline does.
    expect(ticket.clocks.resolution).toMatchObject({
      dueAt: '2026-12-02T02:00:00.000Z',
      warnAt: '2026-12-01T02:00:00.000Z',
    });
  });

  it('warns again on the clock’s next run, and not at all when warnAt is null or before warnings', () => {
    const ticket = resolved();
    expect(ticket.clocks.callback?.warnAt).toBeUndefined();
    const off = policy({ warnAt: null });
    expect(open({}, { policy: off }).clocks.firstResponse?.warnAt).toBeUndefined();
    // A snapshot from before warnings has no warnAt at all.
    const { warnAt: _dropped, ...before } = warning;
    expect(open({}, { policy: before }).clocks.firstResponse?.warnAt).toBeUndefined();

    const again = open({}, { policy: warning });
    act(again, 'acknowledge', {}, T0, AGENT, warning);
    act(again, 'plan', { ...plan, dispatch: false }, T0 + MIN, SUPERVISOR, warning);
    act(again, 'resolve', serviceRecord, T0 + 2 * MIN, ENGINEER, warning);
    expect(warningsOf(fireDue(again, T0 + 2 * MIN + 0.8 * DAY, warning))).toHaveLength(1);
    act(again, 'callback', unhappyCallback, T0 + DAY, AGENT, warning);
    act(
      again,
      'follow-up',
      { contactMade: true, cause: 'Rude engineer', improvementPlan: 'Retrained' },
      T0 + DAY + MIN,
      SUPERVISOR,
      warning,
    );
    expect(again.clocks.callback).toMatchObject({ cycle: 2, warnAt: iso(T0 + 1.8 * DAY + MIN) });
    expect(warningsOf(fireDue(again, T0 + 1.8 * DAY + MIN, warning))).toMatchObject([
      { data: { clock: 'callback', personId: AGENT.id } },
    ]);
  });

  it('moves a warning not yet sent with its deadline when the priority changes', () => {
    const ticket = open({}, { policy: warning });
    act(ticket, 'acknowledge', {}, T0, AGENT, warning);
    expect(ticket.clocks.plan?.warnAt).toBe(iso(T0 + 96 * MIN));
    act(ticket, 'classify', { priority: 'urgent' }, T0 + 5 * MIN, SUPERVISOR, warning);
    // The urgent plan is 30 minutes from the same start: warned at 24.
    expect(ticket.clocks.plan).toMatchObject({ dueAt: iso(T0 + 30 * MIN), warnAt: iso(T0 + 24 * MIN) });
  });

  it('leaves warnings to the workflow’s patch: without it, deadlines only', () => {
    const ticket = open({}, { policy: warning });
    expect(nextDeadline(ticket, { warnings: false })?.dueAtMs).toBe(T0 + 10 * MIN);
    expect(fireDue(ticket, T0 + 8 * MIN, warning, { warnings: false }).events).toEqual([]);
  });
});

describe('1.13 Close and archive', () => {
  it('closes an unreachable customer only after the callback window', () => {
    const ticket = resolved();
    expect(() => act(ticket, 'close', { reason: 'customer_unreachable' }, T0 + 5 * HOUR)).toThrow(
      'customer_unreachable closes only after the callback window has passed',
    );
    fireDue(ticket, T0 + 4 * HOUR + DAY, defaults);
    act(ticket, 'close', { reason: 'customer_unreachable' }, T0 + 4 * HOUR + DAY + MIN);
    expect(ticket.closure?.reason).toBe('customer_unreachable');
  });

  it('reopens within 30 days as a repeat with a fresh resolution clock, and archives after', () => {
    const ticket = resolved();
    act(ticket, 'callback', satisfiedCallback, T0 + 5 * HOUR, AGENT);
    expect(ticket.clocks.reopenWindow?.dueAt).toBe(iso(T0 + 5 * HOUR + 30 * DAY));
    act(ticket, 'reopen', { reason: 'Fan noisy again' }, T0 + 10 * DAY);
    expect(ticket).toMatchObject({ status: 'acknowledged', reservices: 1 });
    expect(ticket.clocks.resolution).toMatchObject({ cycle: 2, startedAt: iso(T0 + 10 * DAY) });

    const other = resolved();
    act(other, 'callback', satisfiedCallback, T0 + 5 * HOUR, AGENT);
    const archive = fireDue(other, T0 + 5 * HOUR + 30 * DAY, defaults);
    expect(archive.events.map((event) => event.type)).toEqual(['archived']);
    expect(allowedActions(other)).toEqual([]);
  });

  it('cancels before service starts, with a reason, and not after', () => {
    const ticket = open();
    act(ticket, 'cancel', { reason: 'Duplicate of WO20261122-004' }, T0 + MIN, AGENT);
    expect(ticket.status).toBe('cancelled');
    expect(nextDeadline(ticket)).toBeUndefined();
    const started = inService(open());
    expect(() => act(started, 'cancel', { reason: 'x' }, T0 + 4 * HOUR)).toThrow(
      'cannot cancel a ticket that is in_service',
    );
  });
});

describe('transitions', () => {
  it.each([
    ['resolve', serviceRecord],
    ['callback', satisfiedCallback],
    ['follow-up', { contactMade: true, cause: 'x', improvementPlan: 'y' }],
    ['close', { reason: 'customer_unreachable' }],
    ['accept', {}],
  ] as const)('refuses %s on a new ticket, changes nothing, and names what is allowed', (action, input) => {
    const ticket = open();
    const before = JSON.stringify(ticket);
    expect(() => act(ticket, action, input, T0)).toThrow(IllegalTransitionError);
    expect(() => act(ticket, action, input, T0)).toThrow(
      `cannot ${action} a ticket that is new; allowed now: acknowledge, classify, cancel, note`,
    );
    expect(JSON.stringify(ticket)).toBe(before);
  });

  it('lists only what the ticket allows now: no plan after resolution unless the director owes one', () => {
    const ticket = resolved();
    expect(allowedActions(ticket)).toEqual(['classify', 'callback', 'close', 'note']);
    expect(() => act(ticket, 'plan', plan, T0 + 5 * HOUR)).toThrow(
      'cannot plan this resolved ticket: after resolution only a director plan is recorded, while one is owed',
    );
  });

  it('bumps the version and numbers timeline events in order', () => {
    const ticket = open();
    const first = recordOpening(ticket);
    const second = act(ticket, 'acknowledge', { note: 'Called back' }, T0 + MIN);
    expect(ticket.version).toBe(2);
    expect([...first.events, ...second.events].map((event) => [event.seq, event.type])).toEqual([
      [1, 'created'],
      [2, 'acknowledged'],
      [3, 'notification'],
    ]);
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

describe('1.2, 1.5, 1.9, 1.10 notifications', () => {
  it('tells the customer on acknowledgement and on booking, and the supervisor when a follow-up is due', () => {
    const ticket = open({ customer: { name: '张三', phone: '13812345678', email: 'z@example.com' } });
    const acknowledged = act(ticket, 'acknowledge', {}, T0 + MIN, AGENT);
    expect(acknowledged.notifications).toMatchObject([
      { kind: 'ticket_acknowledged', recipientRole: 'customer', channel: 'sms' },
    ]);
    act(ticket, 'plan', plan, T0 + 2 * MIN);
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
    act(ticket, 'accept', {}, T0 + 4 * MIN, ENGINEER);
    const booked = act(ticket, 'schedule', { slotStart: iso(T0 + 5 * HOUR) }, T0 + 5 * MIN, ENGINEER);
    expect(booked.notifications.map((n) => [n.kind, n.channel])).toEqual([
      ['appointment_confirmed', 'sms'],
      ['appointment_confirmed', 'email'],
    ]);
    act(ticket, 'start', { mode: 'onsite' }, T0 + 5 * HOUR, ENGINEER);
    act(ticket, 'resolve', serviceRecord, T0 + 6 * HOUR, ENGINEER);
    const complaint = act(ticket, 'callback', unhappyCallback, T0 + 7 * HOUR, AGENT);
    expect(complaint.notifications).toMatchObject([{ kind: 'follow_up_due', recipientRole: 'supervisor' }]);
  });

  it('tells the customer progress by SMS: plan confirmed, engineer assigned, resolved (seed 003)', () => {
    const ticket = open();
    act(ticket, 'acknowledge', {}, T0, AGENT);
    const progressOf = (change: ReturnType<typeof act>) =>
      change.notifications
        .filter((n) => n.kind === 'progress')
        .map((n) => [n.recipientRole, n.channel, n.data.stage]);
    expect(progressOf(act(ticket, 'plan', plan, T0 + MIN))).toEqual([['customer', 'sms', 'plan_confirmed']]);
    applyDispatchResult(ticket, ++ticket.dispatch.attempt, 'eng-1', T0 + 2 * MIN, defaults);
    expect(progressOf(act(ticket, 'accept', {}, T0 + 3 * MIN, ENGINEER))).toEqual([
      ['customer', 'sms', 'engineer_assigned'],
    ]);
    act(ticket, 'schedule', { slotStart: iso(T0 + 3 * HOUR) }, T0 + 4 * MIN, ENGINEER);
    act(ticket, 'start', { mode: 'onsite' }, T0 + 3 * HOUR, ENGINEER);
    expect(progressOf(act(ticket, 'resolve', serviceRecord, T0 + 4 * HOUR, ENGINEER))).toEqual([
      ['customer', 'sms', 'resolved'],
    ]);
    // A plan the customer has not confirmed says nothing yet.
    const unconfirmed = open();
    act(unconfirmed, 'acknowledge', {}, T0, AGENT);
    expect(progressOf(act(unconfirmed, 'plan', { ...plan, customerConfirmed: false }, T0 + MIN))).toEqual([]);
  });

  it('sends no progress SMS on a ticket that opted out, at intake or later, and again once it opts back in', () => {
    const optedOut = open({ progressSms: false });
    act(optedOut, 'acknowledge', {}, T0, AGENT);
    expect(act(optedOut, 'plan', plan, T0 + MIN).notifications).toEqual([]);
    const later = open();
    act(later, 'acknowledge', {}, T0, AGENT);
    const classified = act(later, 'classify', { progressSms: false }, T0 + MIN);
    expect(classified.events[0]?.data).toMatchObject({ progressSms: false });
    expect(act(later, 'plan', { ...plan, dispatch: false }, T0 + 2 * MIN).notifications).toEqual([]);
    act(later, 'classify', { progressSms: true }, T0 + 3 * MIN);
    act(later, 'hold', { reason: 'Customer away' }, T0 + 4 * MIN);
    act(later, 'resume', {}, T0 + 5 * MIN);
    expect(act(later, 'resolve', serviceRecord, T0 + 6 * MIN).notifications.map((n) => n.kind)).toEqual([
      'progress',
    ]);
    // Before the customer-progress-sms patch: none.
    const before = open();
    delete before.tellsProgress;
    act(before, 'acknowledge', {}, T0, AGENT);
    expect(act(before, 'plan', plan, T0 + MIN).notifications).toEqual([]);
  });

  it.each(NOTIFICATION_KINDS)('renders %s in zh-CN and en without the customer’s personal data', (kind) => {
    const notification = {
      kind,
      ticketNumber: 'WO20261123-001',
      data: {
        level: 2,
        reason: 'complaint_follow_up_missed',
        slotStart: '2026-11-25T06:00:00.000Z',
        dueAt: '2026-11-25T07:00:00.000Z',
        acceptDueAt: '2026-11-25T07:00:00.000Z',
        clock: 'resolution',
        stage: 'resolved',
        amountFen: 129_900,
        round: 1,
        carrier: 'SF Express',
        trackingNumber: 'SF1234567890',
        totalFen: 18_000,
        invoiceNumber: 'INV-2026-0001',
        kind: 'voucher',
        valueFen: 5_000,
        thresholdFen: 10_000,
        expiresAt: '2026-11-27T02:00:00.000Z',
        partNumber: 'KFR-35GW',
        locationId: 'wh-1',
      },
    };
    const zh = renderNotification(notification, 'zh-CN', 'Asia/Shanghai');
    const en = renderNotification(notification, 'en', 'Asia/Shanghai');
    for (const message of [zh, en]) {
      expect(message.body).toContain('WO20261123-001');
      expect(message.body).not.toMatch(/张三|13812345678|undefined|NaN/);
    }
    expect(zh.body).toMatch(/[\u4e00-\u9fff]/);
    expect(en.body).not.toMatch(/[\u4e00-\u9fff]/);
    if (kind.startsWith('appointment')) expect(en.body).toContain('2026-11-25 14:00');
    if (kind === 'progress') {
      expect(zh.body).toBe('您好，服务单 WO20261123-001 已处理完成，感谢您的耐心与支持。');
      expect(en.body).toBe(
        'Hello, your service request WO20261123-001 is resolved. Thank you for your patience.',
      );
    }
    if (kind === 'clock_warning') {
      expect(zh.body).toBe('服务单 WO20261123-001 的解决时限将于 2026-11-25 15:00 超时，请及时处理。');
      expect(en.body).toContain('resolution deadline of ticket WO20261123-001 is at 2026-11-25 15:00');
    }
  });
});
