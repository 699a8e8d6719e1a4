import { describe, expect, it } from 'vitest';
import {
  COMPLAINT_TYPE_LABELS,
  COMPLAINT_TYPES,
  dissatisfactionRefusal,
  reviewScore,
  SATISFACTION_LEVELS,
} from '../../domain/complaint-analysis';
import { nextDeadline } from '../../domain/clocks';
import {
  actionInputSchema,
  allowedActions,
  applyAction,
  applyDispatchResult,
  fireDue,
  openTicket,
  type ActionInput,
  type ActionName,
} from '../../domain/lifecycle';
import type { Actor, TicketIntake, TicketState } from '../../domain/ticket';
import { externalView, ticketView } from '../../domain/view';
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
 * Complaint and dissatisfaction analysis (seeds 000, 002, 004) on the pure lifecycle. Monday
 * 2026-11-23 10:00 in Shanghai (02:00Z) is T0.
 */
const T0 = Date.parse('2026-11-23T02:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const defaults = policy({ qcSampleRate: 0 });
const ENGINEER: Actor = { id: 'eng-1', role: 'engineer' };
const QC: Actor = { id: 'qc-1', role: 'qc' };
const FINANCE: Actor = { id: 'fin-1', role: 'finance' };
const iso = (ms: number) => new Date(ms).toISOString();
/** What a change did about the rectification clock (a failed review also restarts the service clocks). */
const rectificationOnly = <T extends { clock?: unknown; data?: Record<string, unknown> }>(items: T[]) =>
  items.filter(
    (item) =>
      item.clock === 'rectification' ||
      item.data?.clock === 'rectification' ||
      String(item.data?.escalationId ?? '').includes(':rectification:'),
  );

function open(overrides: Partial<TicketIntake> = {}): TicketState {
  return openTicket({
    number: 'WO20261123-001',
    intake: intake(overrides),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: T0,
    policy: defaults,
  });
}

function act<A extends ActionName>(
  state: TicketState,
  action: A,
  input: ActionInput<A> | Record<string, unknown>,
  nowMs: number,
  actor: Actor = SUPERVISOR,
) {
  return applyAction(state, action, actionInputSchema(action).parse(input) as ActionInput<A>, {
    nowMs,
    actor,
    policy: defaults,
  });
}

/** A complaint serviced by eng-1 and resolved at T0 + 4 h: it waits for its QC review. */
function awaitingReview(): TicketState {
  const state = open({ category: 'complaint' });
  act(state, 'acknowledge', {}, T0 + MIN, AGENT);
  act(state, 'plan', { measures: 'Visit', department: 'field', customerConfirmed: true }, T0 + 2 * MIN);
  applyDispatchResult(state, ++state.dispatch.attempt, 'eng-1', T0 + 3 * MIN, defaults);
  act(state, 'accept', {}, T0 + 4 * MIN, ENGINEER);
  act(state, 'start', { mode: 'remote' }, T0 + HOUR, ENGINEER);
  act(state, 'resolve', serviceRecord, T0 + 4 * HOUR, ENGINEER);
  expect(state.status).toBe('quality_check');
  return state;
}

const failing = {
  aspects: { compliance: 60, effectiveness: 50, communication: 80 },
  responsible: { id: 'eng-1', role: 'engineer' },
  comment: 'No spare parts list, noise remains',
};

describe('taxonomies recorded at classification', () => {
  it('lists the seeds’ complaint sub-types with their Chinese labels and the four satisfaction levels', () => {
    expect(COMPLAINT_TYPES).toEqual(
      expect.arrayContaining(['component_damaged', 'poor_attitude', 'slow_handling', 'repeat_fault']),
    );
    expect(COMPLAINT_TYPE_LABELS.component_damaged).toBe('零部件损坏');
    expect(COMPLAINT_TYPE_LABELS.repeat_fault).toBe('重复故障');
    expect(SATISFACTION_LEVELS).toEqual(['very_satisfied', 'satisfied', 'average', 'dissatisfied']);
  });

  it('classify records the complaint sub-type, problem type and liability, later ones adding to earlier', () => {
    const ticket = open({ category: 'complaint' });
    const change = act(
      ticket,
      'classify',
      { complaintType: 'slow_handling', problemType: 'service' },
      T0 + MIN,
    );
    expect(ticket.analysis).toEqual({ complaintType: 'slow_handling', problemType: 'service' });
    expect(change.events).toMatchObject([
      { type: 'classified', data: { analysis: { complaintType: 'slow_handling', problemType: 'service' } } },
    ]);
    act(ticket, 'classify', { liability: 'transport' }, T0 + 2 * MIN);
    expect(ticket.analysis).toEqual({
      complaintType: 'slow_handling',
      problemType: 'service',
      liability: 'transport',
    });
    expect(ticketView(ticket, T0).analysis).toEqual(ticket.analysis);
  });

  it('refuses a value outside a taxonomy, naming the field', () => {
    const parsed = actionInputSchema('classify').safeParse({ liability: 'weather' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['liability']);
  });
});

describe('a callback scoring 3 or less names its dissatisfaction category', () => {
  it('requires the category on a low score, and allows it only on a dissatisfied callback', () => {
    const { dissatisfaction: _left, ...uncategorised } = unhappyCallback;
    const parse = (input: unknown) => actionInputSchema('callback').parse(input);
    expect(dissatisfactionRefusal(parse(uncategorised))).toMatch(/names its dissatisfaction/);
    expect(dissatisfactionRefusal(parse(unhappyCallback))).toBeUndefined();
    expect(dissatisfactionRefusal(parse({ ...satisfiedCallback, dissatisfaction: 'fee_dispute' }))).toMatch(
      /recorded on a dissatisfied callback/,
    );
    // 一般 with good scores is dissatisfied: a category may be given, none is required.
    const average = { ...satisfiedCallback, satisfaction: 'average' };
    expect(dissatisfactionRefusal(parse(average))).toBeUndefined();
    expect(dissatisfactionRefusal(parse({ ...average, dissatisfaction: 'other' }))).toBeUndefined();
  });

  it('refuses the callback with 409 reasons on the ticket, and records the category when named', () => {
    const ticket = awaitingReview();
    act(ticket, 'qc-review', { score: 92 }, T0 + 5 * HOUR, QC);
    const { dissatisfaction: _left, ...uncategorised } = unhappyCallback;
    expect(() => act(ticket, 'callback', uncategorised, T0 + 6 * HOUR, AGENT)).toThrow(
      /names its dissatisfaction/,
    );
    expect(ticket.status).toBe('resolved');
    act(ticket, 'callback', { ...unhappyCallback, satisfaction: 'dissatisfied' }, T0 + 6 * HOUR, AGENT);
    expect(ticket.callbacks[0]?.input).toMatchObject({
      dissatisfaction: 'poor_attitude',
      satisfaction: 'dissatisfied',
    });
  });

  it('leaves a ticket whose history predates the rule as it was', () => {
    const ticket = awaitingReview();
    delete ticket.analysesComplaints;
    act(ticket, 'qc-review', { score: 92 }, T0 + 5 * HOUR, QC);
    const { dissatisfaction: _left, ...uncategorised } = unhappyCallback;
    act(ticket, 'callback', uncategorised, T0 + 6 * HOUR, AGENT);
    expect(ticket.status).toBe('follow_up');
  });

  it('takes 非常满意 (very_satisfied) as a satisfied callback', () => {
    const ticket = awaitingReview();
    act(ticket, 'qc-review', { score: 92 }, T0 + 5 * HOUR, QC);
    act(ticket, 'callback', { ...satisfiedCallback, satisfaction: 'very_satisfied' }, T0 + 6 * HOUR, AGENT);
    expect(ticket.status).toBe('closed');
  });
});

describe('QC review of the three aspects (规范, 有效, 沟通)', () => {
  it('scores the mean of the aspects, rounded, and takes one score or the aspects, not both', () => {
    expect(reviewScore({ aspects: { compliance: 60, effectiveness: 50, communication: 80 } })).toBe(63);
    expect(reviewScore({ aspects: { compliance: 90, effectiveness: 91, communication: 91 } })).toBe(91);
    expect(reviewScore({ score: 77 })).toBe(77);
    const schema = actionInputSchema('qc-review');
    expect(schema.safeParse({ score: 80, aspects: failing.aspects }).success).toBe(false);
    expect(schema.safeParse({}).success).toBe(false);
    expect(schema.safeParse({ aspects: { compliance: 80, effectiveness: 80 } }).success).toBe(false);
  });

  it('records the aspects and their mean as the review’s score and band', () => {
    const ticket = awaitingReview();
    const aspects = { compliance: 95, effectiveness: 88, communication: 90 };
    act(ticket, 'qc-review', { aspects }, T0 + 5 * HOUR, QC);
    expect(ticket.quality?.reviews).toMatchObject([{ aspects, score: 91, band: 'excellent' }]);
    expect(ticket.status).toBe('resolved');
  });
});

describe('a failed review names who rectifies by when: the rectification clock', () => {
  it('refuses a failed review without the responsible person, and rectification fields on a passing one', () => {
    const ticket = awaitingReview();
    const { responsible: _left, ...unnamed } = failing;
    expect(() => act(ticket, 'qc-review', unnamed, T0 + 5 * HOUR, QC)).toThrow(
      /names the person responsible/,
    );
    expect(() =>
      act(ticket, 'qc-review', { score: 85, responsible: failing.responsible }, T0 + 5 * HOUR, QC),
    ).toThrow(/only a failed review/);
    expect(() =>
      act(ticket, 'qc-review', { ...failing, rectifyBy: iso(T0 + 4 * HOUR) }, T0 + 5 * HOUR, QC),
    ).toThrow(/rectifyBy must be in the future/);
    expect(ticket.status).toBe('quality_check');
    expect(allowedActions(ticket)).not.toContain('record-rectification');
  });

  it('runs the policy’s 5 business days by default and escalates once to the person named and their supervisor', () => {
    const ticket = awaitingReview();
    const change = act(ticket, 'qc-review', failing, T0 + 5 * HOUR, QC);
    // Monday 15:00 Shanghai + 5 business days: the next Monday 15:00.
    const dueAt = iso(Date.parse('2026-11-30T07:00:00Z'));
    expect(ticket.clocks.rectification).toMatchObject({ duration: '5bd', dueAt, metAt: null });
    expect(ticket.rectification).toEqual({
      responsible: { id: 'eng-1', role: 'engineer' },
      dueAt,
      orderedAt: iso(T0 + 5 * HOUR),
      doneAt: null,
    });
    expect(change.events.map((event) => event.type)).toEqual([
      'qc_reviewed',
      'qc_failed',
      'rectification_ordered',
    ]);
    expect(allowedActions(ticket)).toContain('record-rectification');
    const missed = fireDue(ticket, Date.parse(dueAt), defaults);
    expect(rectificationOnly(missed.escalations)).toMatchObject([
      {
        id: 'WO20261123-001:rectification:1',
        clock: 'rectification',
        level: 1,
        reason: 'rectification_missed',
      },
    ]);
    expect(rectificationOnly(missed.notifications)).toMatchObject([
      { kind: 'escalation', recipientRole: 'engineer', data: { personId: 'eng-1' } },
      { kind: 'escalation', recipientRole: 'supervisor', data: { superiorOf: 'eng-1' } },
    ]);
    expect(rectificationOnly(fireDue(ticket, Date.parse(dueAt) + MIN, defaults).escalations)).toEqual([]);
  });

  it('warns the person named before the deadline, like the other clocks', () => {
    const ticket = awaitingReview();
    const warned = policy({ qcSampleRate: 0, warnAt: 0.5 });
    applyAction(
      ticket,
      'qc-review',
      actionInputSchema('qc-review').parse({ ...failing, rectifyBy: iso(T0 + 25 * HOUR) }),
      {
        nowMs: T0 + 5 * HOUR,
        actor: QC,
        policy: warned,
      },
    );
    expect(ticket.clocks.rectification).toMatchObject({
      dueAt: iso(T0 + 25 * HOUR),
      warnAt: iso(T0 + 15 * HOUR),
    });
    const change = fireDue(ticket, T0 + 15 * HOUR, warned);
    expect(rectificationOnly(change.notifications)).toMatchObject([
      {
        kind: 'clock_warning',
        recipientRole: 'engineer',
        data: { clock: 'rectification', personId: 'eng-1' },
      },
    ]);
  });

  it('stops when the rectification is recorded done', () => {
    const ticket = awaitingReview();
    act(ticket, 'qc-review', { ...failing, rectifyBy: iso(T0 + 2 * DAY) }, T0 + 5 * HOUR, QC);
    expect(nextDeadline(ticket)?.dueAtMs).toBeLessThanOrEqual(T0 + 2 * DAY);
    const change = act(ticket, 'record-rectification', { note: 'Retrained on the checklist' }, T0 + DAY, QC);
    expect(ticket.clocks.rectification?.metAt).toBe(iso(T0 + DAY));
    expect(ticket.rectification).toMatchObject({ doneAt: iso(T0 + DAY), note: 'Retrained on the checklist' });
    expect(change.events).toMatchObject([
      { type: 'rectification_recorded', data: { responsibleId: 'eng-1', late: false } },
    ]);
    expect(rectificationOnly(fireDue(ticket, T0 + 2 * DAY, defaults).escalations)).toEqual([]);
    expect(() => act(ticket, 'record-rectification', { note: 'again' }, T0 + DAY, QC)).toThrow(
      /no rectification is due/,
    );
  });

  it('shows a client the rectification without who or what was written', () => {
    const ticket = awaitingReview();
    act(ticket, 'qc-review', failing, T0 + 5 * HOUR, QC);
    act(ticket, 'record-rectification', { note: 'Retrained' }, T0 + DAY, QC);
    const view = externalView(ticketView(ticket, T0 + DAY), 'client-1');
    expect(view.rectification).toMatchObject({ responsible: { id: '***', role: 'engineer' }, note: '***' });
    expect(view.quality?.reviews[0]?.responsible?.id).toBe('***');
  });
});

describe('complaint handling cost, in fen', () => {
  it('records each item, totals them, and takes several records', () => {
    const ticket = open({ category: 'complaint' });
    const change = act(
      ticket,
      'record-handling-cost',
      {
        items: [
          { kind: 'revisit', amountFen: 8_000 },
          { kind: 'staff_time', amountFen: 4_050 },
        ],
      },
      T0 + HOUR,
      FINANCE,
    );
    act(
      ticket,
      'record-handling-cost',
      { items: [{ kind: 'goodwill', amountFen: 500 }] },
      T0 + 2 * HOUR,
      FINANCE,
    );
    expect(ticket.handlingCosts?.map((cost) => cost.totalFen)).toEqual([12_050, 500]);
    expect(change.events).toMatchObject([{ type: 'handling_cost_recorded', data: { totalFen: 12_050 } }]);
  });

  it('is recorded on a complaint only, and in integer fen', () => {
    const ticket = open({ category: 'fault' });
    expect(allowedActions(ticket)).not.toContain('record-handling-cost');
    expect(() =>
      act(ticket, 'record-handling-cost', { items: [{ kind: 'other', amountFen: 100 }] }, T0, FINANCE),
    ).toThrow(/recorded on a complaint/);
    const schema = actionInputSchema('record-handling-cost');
    expect(schema.safeParse({ items: [{ kind: 'revisit', amountFen: 12.5 }] }).success).toBe(false);
    expect(schema.safeParse({ items: [] }).success).toBe(false);
  });
});
