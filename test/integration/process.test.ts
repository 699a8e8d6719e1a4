import { randomInt } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { escalations, ticketEvents, tickets } from '../../db/schema';
import type { TicketView } from '../../domain/view';
import { satisfiedCallback, serviceRecord, unhappyCallback } from '../support/fixtures';
import { startApi, type ApiStack } from '../support/stack';
import { runRelayFor } from '../support/relay';
import { runWorkerFor } from '../support/temporal';

/**
 * SPEC section 1 end to end: every step through HTTP against the real stack (PostgreSQL, the
 * Temporal dev server, the real worker) with a short policy file — the same file format an operator
 * writes, in seconds instead of minutes.
 */
const taskQueue = `process-${process.pid}`;
const tag = `${process.pid}-${randomInt(1e9)}`;
/** This file's own product line and region, so dispatch only sees this file's engineers. */
const LINE = `air-conditioner-${tag}`;
const REGION = `pudong-${tag}`;
const KEYS = {
  admin: `process-admin-${tag}`,
  agent: `process-agent-${tag}`,
  supervisor: `process-supervisor-${tag}`,
  qc: `process-qc-${tag}`,
  manager: `process-manager-${tag}`,
  director: `process-director-${tag}`,
  e1: `process-e1-${tag}`,
  e2: `process-e2-${tag}`,
  e3: `process-e3-${tag}`,
};
type Who = keyof typeof KEYS;
const ENGINEERS = { e1: `e1-${tag}`, e2: `e2-${tag}`, e3: `e3-${tag}` };

let stack: ApiStack;
let stopWorker: () => Promise<void>;
let stopRelay: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({
    taskQueue,
    policy: {
      firstResponse: '60s',
      escalationStep: '3s',
      plan: { normal: '60s', urgent: '60s', critical: '30s' },
      dispatchAccept: '2s',
      customerContact: '60s',
      appointmentReminder: '3s',
      resolution: { normal: '1h', urgent: '6s', critical: '30m' },
      criticalTemporaryPlan: '1h',
      callback: '60s',
      complaintFollowUp: '2s',
      directorPlan: '1h',
      reopenWindow: '1h',
      qcSampleRate: 0,
    },
    env: {
      API_KEYS: [
        `${KEYS.admin}:admin:ops-1`,
        `${KEYS.agent}:agent:agent-7`,
        `${KEYS.supervisor}:supervisor:sup-1`,
        `${KEYS.qc}:qc:qc-1`,
        `${KEYS.manager}:manager:mgr-1`,
        `${KEYS.director}:director:dir-1`,
        `${KEYS.e1}:engineer:${ENGINEERS.e1}`,
        `${KEYS.e2}:engineer:${ENGINEERS.e2}`,
        `${KEYS.e3}:engineer:${ENGINEERS.e3}`,
      ].join(','),
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  stopRelay = await runRelayFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopRelay?.();
  await stopWorker?.();
  await stack?.close();
});

async function call(who: Who, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
  return stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${KEYS[who]}` } });
}

async function act(who: Who, number: string, action: string, payload: Record<string, unknown> = {}) {
  const response = await call(who, 'POST', `/v1/tickets/${number}/${action}`, payload);
  if (response.statusCode !== 200) throw new Error(`${action}: ${response.statusCode} ${response.body}`);
  return response.json();
}

const read = async (number: string) => (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
const types = async (number: string): Promise<string[]> =>
  (await call('admin', 'GET', `/v1/tickets/${number}/events`))
    .json()
    .events.map((e: { type: string }) => e.type);

async function until(number: string, check: (ticket: TicketView) => boolean, timeout = 15_000) {
  return vi.waitFor(
    async () => {
      const ticket = await read(number);
      if (!check(ticket)) throw new Error(`${number} is ${ticket.status} (assignee ${ticket.assignee})`);
      return ticket;
    },
    { timeout, interval: 100 },
  );
}

async function engineer(id: string, overrides: Record<string, unknown> = {}) {
  const response = await call('admin', 'POST', '/v1/engineers', {
    id,
    name: `Engineer ${id}`,
    skills: [LINE],
    regions: [REGION],
    ...overrides,
  });
  expect([200, 201]).toContain(response.statusCode);
}

async function create(overrides: Record<string, unknown> = {}): Promise<string> {
  const response = await call('agent', 'POST', '/v1/tickets', {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    customer: { name: '李四', phone: `139${randomInt(10_000_000, 99_999_999)}`, region: REGION },
    product: {
      model: 'KFR-35GW',
      line: LINE,
      serialNumber: `SN-${randomInt(1e9)}`,
      purchaseDate: '2026-03-15',
    },
    description: 'No cooling',
    ...overrides,
  });
  expect(response.statusCode).toBe(201);
  return response.json().number;
}

const plan = { measures: 'Replace the fan motor', department: 'field-service', customerConfirmed: true };
const followUp = {
  contactMade: true,
  cause: 'Engineer was late',
  improvementPlan: 'Senior engineer revisits',
};
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

async function escalationsOf(number: string) {
  return (await call('supervisor', 'GET', `/v1/escalations?ticket=${number}`)).json().items as {
    id: string;
    level: number;
    reason: string;
    open: boolean;
  }[];
}

/** Each test starts with its own engineers idle: their load only counts this file's tickets. */
async function releaseAll(...numbers: string[]) {
  for (const number of numbers)
    await act('admin', number, 'cancel', { reason: 'test over' }).catch(() => undefined);
}

describe('the whole after-sales process through HTTP', () => {
  it('happy path: create → acknowledge → plan → auto-dispatch → accept → schedule → start → resolve → QC → callback → close', async () => {
    await engineer(ENGINEERS.e1);
    await engineer(ENGINEERS.e2, { regions: ['elsewhere'] });
    const number = await create({ category: 'complaint', language: 'en' });
    await act('agent', number, 'acknowledge');
    const planned = await act('supervisor', number, 'plan', plan);
    expect(planned.status).toBe('planned');

    const offered = await until(number, (ticket) => ticket.status === 'assigned');
    expect(offered.assignee).toBe(ENGINEERS.e1);
    expect((await call('admin', 'GET', `/v1/engineers/${ENGINEERS.e1}`)).json().openLoad).toBe(1);
    await act('e1', number, 'accept');
    const scheduled = await act('e1', number, 'schedule', { slotStart: inSeconds(4) });
    expect(scheduled.sla.appointmentReminder.dueAt).toBe(
      new Date(Date.parse(scheduled.appointment.slotStart) - 3000).toISOString(),
    );
    await vi.waitFor(
      async () => {
        const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
        const kinds = events
          .filter((event: { type: string }) => event.type === 'notification')
          .map((event: { data: { kind: string } }) => event.data.kind);
        expect(kinds).toEqual([
          'ticket_acknowledged',
          'progress',
          'dispatch_offer',
          'progress',
          'appointment_confirmed',
          'appointment_reminder',
          'appointment_reminder',
        ]);
      },
      { timeout: 10_000, interval: 200 },
    );
    await act('e1', number, 'start', { mode: 'onsite' });
    const resolved = await act('e1', number, 'resolve', serviceRecord);
    expect(resolved).toMatchObject({
      status: 'quality_check',
      quality: { required: true, reason: 'complaint' },
    });
    expect(resolved.serviceRecords[0].input).toMatchObject({
      chargedFen: 0,
      feesFreeUnderWarranty: true,
      parts: [{ freeUnderWarranty: true }],
    });
    expect((await call('admin', 'GET', `/v1/engineers/${ENGINEERS.e1}`)).json().openLoad).toBe(0);
    const reviewed = await act('qc', number, 'qc-review', { score: 93 });
    expect(reviewed).toMatchObject({ status: 'resolved', quality: { reviews: [{ band: 'excellent' }] } });
    const closed = await act('agent', number, 'callback', satisfiedCallback);
    expect(closed).toMatchObject({ status: 'closed', closure: { reason: 'customer_satisfied' } });
    // A complaint's handling cost may still be recorded after it closes.
    expect(closed.allowedActions).toEqual(['record-handling-cost', 'reopen', 'note']);
    expect(await types(number)).toEqual([
      'created',
      'acknowledged',
      'notification',
      'planned',
      'notification',
      'assigned',
      'notification',
      'accepted',
      'notification',
      'scheduled',
      'notification',
      'notification',
      'notification',
      'service_started',
      'resolved',
      'notification',
      'qc_reviewed',
      'callback_due',
      'callback_recorded',
      'closed',
    ]);
    expect(await escalationsOf(number)).toEqual([]);

    // Every notice went out through the development provider, in the ticket's language.
    const sent = await vi.waitFor(
      async () => {
        const items = (await call('admin', 'GET', `/v1/tickets/${number}/notifications`)).json().items;
        expect(items.every((item: { status: string }) => item.status === 'delivered')).toBe(true);
        return items as {
          kind: string;
          recipient: string;
          channel: string;
          language: string;
          body: string;
        }[];
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(
      sent.map((item) => [
        item.kind,
        item.channel,
        item.recipient.startsWith('1') ? 'phone' : item.recipient,
      ]),
    ).toEqual([
      ['ticket_acknowledged', 'sms', 'phone'],
      ['progress', 'sms', 'phone'],
      ['dispatch_offer', 'internal', `engineer:${ENGINEERS.e1}`],
      ['progress', 'sms', 'phone'],
      ['appointment_confirmed', 'sms', 'phone'],
      ['appointment_reminder', 'sms', 'phone'],
      ['appointment_reminder', 'internal', `engineer:${ENGINEERS.e1}`],
      ['progress', 'sms', 'phone'],
    ]);
    // Progress SMS (seed 003) carry the ticket number only, in the ticket's language.
    expect(sent.filter((item) => item.kind === 'progress').map((item) => item.body)).toEqual([
      `Hello, the plan for your service request ${number} is confirmed; we will proceed with it.`,
      `Hello, an engineer has taken your service request ${number} and will contact you to book a visit.`,
      `Hello, your service request ${number} is resolved. Thank you for your patience.`,
    ]);
    expect(sent.every((item) => item.language === 'en')).toBe(true);
    expect(sent[0]?.body).toBe(`Hello, we have received your service request ${number} and are on it.`);
    const qcView = (await call('qc', 'GET', `/v1/tickets/${number}/notifications`)).json().items;
    expect(qcView[0].recipient).toMatch(/^139\*{4}\d{4}$/);
  });

  it('decline and re-dispatch: the next engineer gets the ticket and the reason is kept', async () => {
    await engineer(ENGINEERS.e1);
    await engineer(ENGINEERS.e3);
    const number = await create();
    await act('agent', number, 'acknowledge');
    await act('supervisor', number, 'plan', plan);
    const first = await until(number, (ticket) => ticket.status === 'assigned');
    const [declinerKey, nextId] =
      first.assignee === ENGINEERS.e1 ? (['e1', ENGINEERS.e3] as const) : (['e3', ENGINEERS.e1] as const);
    const declined = await act(declinerKey, number, 'decline', { reason: 'No ladder for a high unit' });
    expect(declined.status).toBe('planned');
    const second = await until(number, (ticket) => ticket.status === 'assigned');
    expect(second.assignee).toBe(nextId);
    expect(second.dispatch.declines).toEqual([
      { engineerId: first.assignee, reason: 'No ladder for a high unit', at: expect.any(String) },
    ]);
    await releaseAll(number);
  });

  it('missed acceptance: silence re-dispatches, and nobody left means manual dispatch with the supervisor told', async () => {
    await engineer(ENGINEERS.e1);
    await engineer(ENGINEERS.e3);
    const number = await create();
    await act('agent', number, 'acknowledge');
    await act('supervisor', number, 'plan', plan);
    const manual = await until(number, (ticket) => ticket.dispatch.manual === true, 20_000);
    expect(manual.dispatch.declines.map((decline: { reason: string }) => decline.reason)).toEqual([
      'no answer within 2s',
      'no answer within 2s',
    ]);
    expect(
      new Set(manual.dispatch.declines.map((decline: { engineerId: string }) => decline.engineerId)),
    ).toEqual(new Set([ENGINEERS.e1, ENGINEERS.e3]));
    const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    expect(events.filter((event: { type: string }) => event.type === 'acceptance_missed')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({
      type: 'notification',
      data: { kind: 'manual_dispatch_needed', recipientRole: 'supervisor' },
    });
    await vi.waitFor(async () => {
      const items = (await call('admin', 'GET', `/v1/tickets/${number}/notifications`)).json().items;
      expect(items.at(-1)).toMatchObject({
        kind: 'manual_dispatch_needed',
        recipient: 'role:supervisor',
        status: 'delivered',
      });
    });
    const unknown = await call('supervisor', 'POST', `/v1/tickets/${number}/assign`, {
      engineerId: 'nobody',
    });
    expect(unknown.statusCode).toBe(422);
    const assigned = await act('supervisor', number, 'assign', { engineerId: ENGINEERS.e1 });
    expect(assigned).toMatchObject({
      status: 'assigned',
      assignee: ENGINEERS.e1,
      dispatch: { manual: false },
    });
    await act('e1', number, 'accept');
    await releaseAll(number);
  });

  it('bad callback → missed follow-up → manager; a second complaint → director, who owes a plan', async () => {
    const number = await create();
    await act('agent', number, 'acknowledge');
    await act('agent', number, 'plan', { ...plan, dispatch: false });
    await act('agent', number, 'resolve', serviceRecord);
    await act('agent', number, 'callback', unhappyCallback);
    await until(number, (ticket) => ticket.escalationLevel === 2);
    const [missed] = await escalationsOf(number);
    expect(missed).toMatchObject({ level: 2, reason: 'complaint_follow_up_missed', open: true });
    await vi.waitFor(async () => {
      const items = (await call('admin', 'GET', `/v1/tickets/${number}/notifications`)).json().items;
      const staff = items
        .filter((item: { kind: string }) => item.kind === 'follow_up_due' || item.kind === 'escalation')
        .map((item: { kind: string; recipient: string; status: string; body: string }) => [
          item.kind,
          item.recipient,
          item.status,
          /[\u4e00-\u9fff]/.test(item.body),
        ]);
      expect(staff).toEqual([
        ['follow_up_due', 'role:supervisor', 'delivered', true],
        ['escalation', 'role:manager', 'delivered', true],
      ]);
    });
    await act('manager', number, 'escalation-ack');
    expect((await escalationsOf(number)).map((escalation) => escalation.open)).toEqual([false]);

    await act('supervisor', number, 'follow-up', followUp);
    const second = await act('agent', number, 'callback', unhappyCallback);
    expect(second).toMatchObject({ status: 'follow_up', complaints: 2, escalationLevel: 3 });
    expect(second.sla.directorPlan.metAt).toBeNull();
    const forbidden = await call('supervisor', 'POST', `/v1/tickets/${number}/plan`, {
      ...plan,
      kind: 'director',
    });
    expect(forbidden.statusCode).toBe(403);
    const directorPlan = await act('director', number, 'plan', { ...plan, kind: 'director' });
    expect(directorPlan.sla.directorPlan.metAt).not.toBeNull();
    const reasons = (await escalationsOf(number)).map((escalation) => [escalation.level, escalation.reason]);
    expect(reasons).toContainEqual([3, 'second_complaint']);
    expect((await call('manager', 'GET', '/v1/escalations?level=3&open=true')).json().items).toContainEqual(
      expect.objectContaining({ ticketNumber: number, reason: 'second_complaint' }),
    );
  });

  it('an escalation nobody acknowledges climbs supervisor → manager → director, each recorded once', async () => {
    const number = await create();
    await act('agent', number, 'acknowledge');
    await act('agent', number, 'plan', { ...plan, dispatch: false });
    await act('agent', number, 'resolve', serviceRecord);
    await act('agent', number, 'callback', unhappyCallback);
    await until(number, (ticket) => ticket.escalationLevel === 3, 20_000);
    const chain = await escalationsOf(number);
    expect(chain.map((escalation) => [escalation.level, escalation.reason, escalation.open])).toEqual([
      [3, 'escalation_not_acknowledged', true],
      [2, 'complaint_follow_up_missed', false],
    ]);
  });

  it('hold pauses the resolution clock and resume continues with the time that was left', async () => {
    const number = await create({ priority: 'urgent' });
    await act('agent', number, 'acknowledge');
    const planned = await act('agent', number, 'plan', { ...plan, dispatch: false });
    const originalDue = Date.parse(planned.sla.resolution.dueAt);
    const held = await act('agent', number, 'hold', { reason: 'Customer abroad until Friday' });
    expect(held).toMatchObject({ status: 'on_hold', sla: { resolution: { remainingMs: null } } });
    expect(held.sla.resolution.pausedAt).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect((await escalationsOf(number)).length).toBe(0);
    const resumed = await act('agent', number, 'resume');
    expect(resumed.status).toBe('planned');
    const newDue = Date.parse(resumed.sla.resolution.dueAt);
    const left = originalDue - Date.parse(held.sla.resolution.pausedAt);
    expect(newDue - Date.parse(resumed.updatedAt)).toBe(left);
    await until(number, (ticket) => Boolean(ticket.sla.resolution?.breachedAt));
    const missed = (await escalationsOf(number)).filter(
      (escalation) => escalation.reason === 'resolution_missed',
    );
    expect(missed).toMatchObject([{ level: 1 }]);
    expect(newDue).toBeGreaterThan(originalDue + 7_000);
  });

  it('reopen within the window restarts the resolution clock and counts as a repeat', async () => {
    const number = await create();
    await act('agent', number, 'acknowledge');
    await act('agent', number, 'plan', { ...plan, dispatch: false });
    await act('agent', number, 'resolve', serviceRecord);
    const closed = await act('agent', number, 'callback', satisfiedCallback);
    expect(closed.sla.reopenWindow.metAt).toBeNull();
    const reopened = await act('agent', number, 'reopen', { reason: 'The noise is back' });
    expect(reopened).toMatchObject({ status: 'acknowledged', reservices: 1 });
    expect(reopened.sla.resolution.metAt).toBeNull();
    const again = await act('agent', number, 'resolve', serviceRecord);
    expect(again.quality).toMatchObject({ required: true, reason: 'repeat' });
  });

  it('cancel before service starts, with a reason; afterwards every action is 409 and nothing is written', async () => {
    const number = await create();
    const cancelled = await act('agent', number, 'cancel', { reason: 'Customer fixed it himself' });
    expect(cancelled).toMatchObject({ status: 'cancelled', allowedActions: [], nextDeadline: null });
    const before = await counts(number);
    const refused = await call('agent', 'POST', `/v1/tickets/${number}/acknowledge`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ currentStatus: 'cancelled', allowedActions: [] });
    expect(await counts(number)).toEqual(before);
  });

  it('refuses a return before a manager approves it, writing nothing', async () => {
    const purchaseDate = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const number = await create({
      serviceType: 'return',
      product: { model: 'KFR-35GW', line: LINE, serialNumber: `SN-${randomInt(1e9)}`, purchaseDate },
    });
    await act('agent', number, 'acknowledge');
    const before = await counts(number);
    const refused = await call('agent', 'POST', `/v1/tickets/${number}/resolve`, serviceRecord);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toBe(
      'cannot resolve this acknowledged ticket: a return or exchange needs a manager’s approve first',
    );
    expect(refused.json().allowedActions).toContain('request-return');
    expect(await counts(number)).toEqual(before);
    expect((await call('agent', 'POST', `/v1/tickets/${number}/approve`, {})).statusCode).toBe(403);
    await act('agent', number, 'request-return', {
      returnReason: 'changed_mind',
      proofs: ['purchase_proof', 'product'],
    });
    // An approved return is not serviced: the product comes back first (see returns.test.ts).
    expect((await act('manager', number, 'approve', { note: 'Refund approved' })).status).toBe('returning');
    expect((await call('agent', 'POST', `/v1/tickets/${number}/resolve`, serviceRecord)).statusCode).toBe(
      409,
    );
  });

  it('a priority change moves the running plan and resolution deadlines at once', async () => {
    const number = await create();
    const acknowledged = await act('agent', number, 'acknowledge');
    const changed = await act('agent', number, 'classify', {
      priority: 'critical',
      reason: 'Smoke from the unit',
    });
    expect(changed.priority).toBe('critical');
    expect(changed.sla.criticalTemporaryPlan.metAt).toBeNull();
    const moved = (clock: 'plan' | 'resolution') =>
      Date.parse(acknowledged.sla[clock].dueAt) - Date.parse(changed.sla[clock].dueAt);
    expect(moved('plan')).toBe(30_000);
    expect(moved('resolution')).toBe(30 * 60_000);
    expect(changed.nextDeadline).toBe(changed.sla.plan.dueAt);
    const kinds = (await call('admin', 'GET', `/v1/tickets/${number}/events`))
      .json()
      .events.filter((event: { type: string }) => event.type === 'notification')
      .map((event: { data: { kind: string } }) => event.data.kind);
    expect(kinds).toEqual(['ticket_acknowledged', 'critical_ticket_created']);
  });

  it('records every escalation exactly once: one row and one timeline event each', async () => {
    const rows = await stack.database.db
      .select({ ticket: escalations.ticketNumber, n: count() })
      .from(escalations)
      .innerJoin(tickets, eq(tickets.number, escalations.ticketNumber))
      .where(eq(tickets.productModel, 'KFR-35GW'))
      .groupBy(escalations.ticketNumber);
    expect(rows.length).toBeGreaterThan(0);
    for (const { ticket, n } of rows) {
      expect((await types(ticket)).filter((type) => type === 'escalated')).toHaveLength(n);
    }
  });
});

async function counts(number: string) {
  const { db } = stack.database;
  const [[events], [fired]] = await Promise.all([
    db.select({ n: count() }).from(ticketEvents).where(eq(ticketEvents.ticketNumber, number)),
    db.select({ n: count() }).from(escalations).where(eq(escalations.ticketNumber, number)),
  ]);
  const [row] = await db.select({ version: tickets.version }).from(tickets).where(eq(tickets.number, number));
  return { events: events?.n, escalations: fired?.n, version: row?.version };
}
