import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { notifications, ticketEvents } from '../../db/schema';
import { recordStockRequest, reserveForTicket, upsertLocation, upsertPart } from '../../db/parts-store';
import { listTicketEscalations } from '../../db/ticket-store';
import { parseDuration } from '../../domain/durations';
import { openTicket } from '../../domain/lifecycle';
import { deadlineAfter } from '../../domain/policy';
import { workflowIdOf, type Actor, type ClockState } from '../../domain/ticket';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates, partsUpdate, ticketStateQuery } from '../../workflows/messages';
import {
  AGENT,
  intake,
  policy,
  TEST_CUSTOMER_ID,
  TEST_PAYLOAD_KEYS,
  uniqueTicketNumber,
} from '../support/fixtures';
import { createTimeSkippingEnvironment, runTicketWorker, type RunningWorker } from '../support/temporal';

/**
 * The return clocks at their real default lengths on Temporal's time-skipping test server, with the
 * real activities writing to PostgreSQL: the manager's decision on a return or exchange request
 * (1 business day), the customer's ship-back window (7 days, reminded at half) and finance's refund
 * (3 business days); an approved exchange waiting for its replacement (the parts wait, 2 business
 * days); the customer's time to consent to a quote (48 hours); a manager's decision on a remedy
 * above the policy's value (1 business day); and the waits that had no clock before (issue 22's
 * audit), each escalating to the supervisor once: the inspection of a received return (1 business
 * day), the settlement of a failed one (3 business days), the replacement's shipment (1 business day),
 * the customer's answer to it (7 days), the unit back (7 days), a consented quote's payment (3 days).
 */
const SECOND = 1_000;
const DAY = 86_400 * SECOND;
const MANAGER: Actor = { id: 'mgr-1', role: 'manager' };
const PARTS: Actor = { id: 'parts-1', role: 'parts' };
const defaults = policy({ qcSampleRate: 0 });
const taskQueue = `return-clocks-${process.pid}`;
let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let worker: RunningWorker;

beforeAll(async () => {
  env = await createTimeSkippingEnvironment();
  database = connectDatabase(inject('databaseUrl'), { max: 4, payloadKeys: TEST_PAYLOAD_KEYS });
  worker = await runTicketWorker(env, taskQueue, database.db);
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await database?.close();
});

/** An acknowledged return (or exchange) of a product bought two days ago, requested with both proofs. */
async function requestedReturn(serviceType: 'return' | 'exchange' = 'return') {
  const number = uniqueTicketNumber();
  const nowMs = await env.currentTimeMs();
  const purchaseDate = new Date(nowMs - 2 * DAY).toISOString().slice(0, 10);
  const ticket = openTicket({
    number,
    intake: intake({
      serviceType,
      product: { model: 'KFR-35GW/ABC123', serialNumber: `SN-${number}`, purchaseDate },
    }),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: nowMs,
    policy: defaults,
  });
  const handle = await env.client.workflow.start(ticketWorkflow, {
    workflowId: workflowIdOf(number),
    taskQueue,
    args: [{ ticket, policy: defaults }],
  });
  await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor: AGENT, input: {} }] });
  const state = await handle.executeUpdate(actionUpdates['request-return'], {
    args: [
      { actor: AGENT, input: { returnReason: 'quality_defect', proofs: ['purchase_proof', 'product'] } },
    ],
  });
  return { number, handle, state };
}

async function approvalEscalations(number: string) {
  return (await listTicketEscalations(database.db, number)).filter((row) => row.clock === 'returnApproval');
}

describe('the return clocks at their real lengths', () => {
  it('a return request nobody decides escalates to the manager level once, when 1 business day passes', async () => {
    const { number, handle, state } = await requestedReturn();
    const clock = state.clocks.returnApproval;
    const oneBusinessDay = parseDuration('1bd');
    if (!oneBusinessDay) throw new Error('1bd does not parse');
    const dueMs = deadlineAfter(Date.parse(clock?.startedAt ?? ''), oneBusinessDay, defaults.calendar);
    expect(clock).toMatchObject({ duration: '1bd', dueAt: new Date(dueMs).toISOString(), metAt: null });

    await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
    expect(await approvalEscalations(number)).toEqual([]);
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () => {
      const rows = await approvalEscalations(number);
      expect(rows.map((row) => [row.level, row.reason, Date.parse(row.missedDeadline)])).toEqual([
        [2, 'return_approval_missed', dueMs],
      ]);
    });
    // Only once: a week later the same clock has not escalated again.
    await env.sleep(7 * DAY);
    expect(
      (await approvalEscalations(number)).filter((row) => row.reason === 'return_approval_missed'),
    ).toHaveLength(1);
    expect((await handle.query(ticketStateQuery)).clocks.returnApproval?.breachedAt).not.toBeNull();
  });

  it('a decision in time stops the clock: nothing escalates', async () => {
    const { number, handle } = await requestedReturn();
    await env.sleep(60 * SECOND);
    const approved = await handle.executeUpdate(actionUpdates.approve, {
      args: [{ actor: MANAGER, input: { note: 'Refund approved' } }],
    });
    expect(approved.clocks.returnApproval?.metAt).not.toBeNull();
    await env.sleep(7 * DAY);
    expect(await approvalEscalations(number)).toEqual([]);
  });
});

describe('an approved return’s clocks at their real lengths', () => {
  async function approvedReturn() {
    const requested = await requestedReturn();
    const state = await requested.handle.executeUpdate(actionUpdates.approve, {
      args: [{ actor: MANAGER, input: {} }],
    });
    return { ...requested, state };
  }

  async function customerNotices(number: string) {
    const rows = await database.db
      .select({ kind: notifications.kind })
      .from(notifications)
      .where(eq(notifications.ticketNumber, number));
    return rows.map((row) => row.kind);
  }

  it('the 7-day ship-back window reminds the customer at 3.5 days and cancels the return at 7', async () => {
    const { number, handle, state } = await approvedReturn();
    const startMs = Date.parse(state.clocks.shipBack?.startedAt ?? '');
    expect(state.clocks.shipBack).toMatchObject({
      duration: '7d',
      dueAt: new Date(startMs + 7 * DAY).toISOString(),
    });
    expect(state.clocks.shipBackReminder?.dueAt).toBe(new Date(startMs + 3.5 * DAY).toISOString());

    await env.sleep(startMs + 3.5 * DAY - (await env.currentTimeMs()) - SECOND);
    expect(await customerNotices(number)).not.toContain('ship_back_reminder');
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () => expect(await customerNotices(number)).toContain('ship_back_reminder'));
    expect((await handle.query(ticketStateQuery)).status).toBe('returning');

    await env.sleep(startMs + 7 * DAY - (await env.currentTimeMs()) - SECOND);
    expect((await handle.query(ticketStateQuery)).status).toBe('returning');
    await env.sleep(2 * SECOND);
    const ended = await handle.result();
    expect(ended).toMatchObject({ status: 'cancelled' });
    expect(
      (await customerNotices(number)).filter(
        (kind) => kind.startsWith('ship_back') || kind === 'return_lapsed',
      ),
    ).toEqual(['ship_back_reminder', 'return_lapsed']);
  });

  it('a refund finance does not make in 3 business days escalates to the manager once', async () => {
    const { number, handle } = await approvedReturn();
    await handle.executeUpdate(actionUpdates['receive-return'], {
      args: [{ actor: AGENT, input: { signedBy: 'wh-1' } }],
    });
    const inspected = await handle.executeUpdate(actionUpdates['inspect-return'], {
      args: [{ actor: AGENT, input: { appearance: 'pass', function: 'pass' } }],
    });
    const threeBusinessDays = parseDuration('3bd');
    if (!threeBusinessDays) throw new Error('3bd does not parse');
    const dueMs = deadlineAfter(
      Date.parse(inspected.clocks.refund?.startedAt ?? ''),
      threeBusinessDays,
      defaults.calendar,
    );
    expect(inspected.clocks.refund).toMatchObject({ duration: '3bd', dueAt: new Date(dueMs).toISOString() });

    const refundEscalations = async () =>
      (await listTicketEscalations(database.db, number)).filter((row) => row.reason === 'refund_missed');
    await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
    expect(await refundEscalations()).toEqual([]);
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () =>
      expect((await refundEscalations()).map((row) => [row.level, Date.parse(row.missedDeadline)])).toEqual([
        [2, dueMs],
      ]),
    );
    await env.sleep(7 * DAY);
    expect(await refundEscalations()).toHaveLength(1);
  });
});

describe('an approved exchange’s parts wait at its real length', () => {
  it('a replacement out of stock starts the 2-business-day parts wait, which escalates to the supervisor once', async () => {
    const { number, handle } = await requestedReturn('exchange');
    const approved = await handle.executeUpdate(actionUpdates.approve, {
      args: [{ actor: MANAGER, input: {} }],
    });
    expect(approved.status).toBe('exchanging');
    // What parts-request tells the workflow when the replacement is short.
    const waiting = await handle.executeUpdate(partsUpdate, {
      args: [
        { actor: AGENT, event: { kind: 'waiting', shortfalls: [{ partNumber: 'KFR-35GW', quantity: 1 }] } },
      ],
    });
    const twoBusinessDays = parseDuration('2bd');
    if (!twoBusinessDays) throw new Error('2bd does not parse');
    const dueMs = deadlineAfter(
      Date.parse(waiting.clocks.partsWait?.startedAt ?? ''),
      twoBusinessDays,
      defaults.calendar,
    );
    expect(waiting.clocks.partsWait).toMatchObject({ duration: '2bd', dueAt: new Date(dueMs).toISOString() });

    const partsEscalations = async () =>
      (await listTicketEscalations(database.db, number)).filter((row) => row.clock === 'partsWait');
    await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
    expect(await partsEscalations()).toEqual([]);
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () =>
      expect(
        (await partsEscalations()).map((row) => [row.level, row.reason, Date.parse(row.missedDeadline)]),
      ).toEqual([[1, 'parts_wait_missed', dueMs]]),
    );
    await env.sleep(7 * DAY);
    expect((await partsEscalations()).filter((row) => row.reason === 'parts_wait_missed')).toHaveLength(1);
    expect((await handle.query(ticketStateQuery)).status).toBe('exchanging');
  });
});

describe('the quote clock at its real length', () => {
  it('a quote unanswered for 48 hours expires once and closes the ticket as declined', async () => {
    const number = uniqueTicketNumber();
    const ticket = openTicket({
      number,
      intake: intake({
        product: { model: 'KFR-35GW/ABC123', serialNumber: `SN-${number}`, purchaseDate: '2020-01-01' },
      }),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: await env.currentTimeMs(),
      policy: defaults,
    });
    const handle = await env.client.workflow.start(ticketWorkflow, {
      workflowId: workflowIdOf(number),
      taskQueue,
      args: [{ ticket, policy: defaults }],
    });
    await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor: AGENT, input: {} }] });
    const quoted = await handle.executeUpdate(actionUpdates.quote, { args: [{ actor: AGENT, input: {} }] });
    const dueMs = Date.parse(quoted.clocks.quoteExpiry?.startedAt ?? '') + 2 * DAY;
    expect(quoted.clocks.quoteExpiry).toMatchObject({
      duration: '48h',
      dueAt: new Date(dueMs).toISOString(),
    });

    await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
    expect((await handle.query(ticketStateQuery)).status).toBe('awaiting_consent');
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () =>
      expect(await handle.query(ticketStateQuery)).toMatchObject({
        status: 'closed',
        closure: { reason: 'declined' },
        quote: { status: 'expired' },
      }),
    );
    await env.sleep(7 * DAY);
    const events = await database.db
      .select({ type: ticketEvents.type })
      .from(ticketEvents)
      .where(eq(ticketEvents.ticketNumber, number));
    expect(events.filter((event) => event.type === 'quote_expired')).toHaveLength(1);
  });
});

describe('the remedy approval clock at its real length', () => {
  it('a remedy above the policy’s value nobody decides escalates to the manager level once, at 1 business day', async () => {
    const number = uniqueTicketNumber();
    const nowMs = await env.currentTimeMs();
    // Bought a month ago (by the test server's clock, which the other tests moved on): in warranty.
    const purchaseDate = new Date(nowMs - 30 * DAY).toISOString().slice(0, 10);
    const ticket = openTicket({
      number,
      intake: intake({ product: { model: 'KFR-35GW/ABC123', serialNumber: `SN-${number}`, purchaseDate } }),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: nowMs,
      policy: defaults,
    });
    const handle = await env.client.workflow.start(ticketWorkflow, {
      workflowId: workflowIdOf(number),
      taskQueue,
      args: [{ ticket, policy: defaults }],
    });
    const update = <A extends 'acknowledge' | 'resolve' | 'callback' | 'offer-remedy'>(
      action: A,
      input: unknown,
    ) => handle.executeUpdate(actionUpdates[action], { args: [{ actor: MANAGER, input: input as never }] });
    await update('acknowledge', {});
    await update('resolve', { diagnosis: 'x', fix: 'y', functionalTest: 'passed' });
    const scores = {
      responsiveness: 2,
      professionalism: 2,
      attitude: 2,
      resolution: 2,
      overall: 2,
      recommend: 2,
    };
    await update('callback', { channel: 'phone', scores, dissatisfaction: 'other' });
    const offered = await update('offer-remedy', { kind: 'voucher', valueFen: 20_000 });
    const oneBusinessDay = parseDuration('1bd');
    if (!oneBusinessDay) throw new Error('1bd does not parse');
    const dueMs = deadlineAfter(
      Date.parse(offered.clocks.remedyApproval?.startedAt ?? ''),
      oneBusinessDay,
      defaults.calendar,
    );
    expect(offered.clocks.remedyApproval).toMatchObject({
      duration: '1bd',
      dueAt: new Date(dueMs).toISOString(),
    });

    const missed = async () =>
      (await listTicketEscalations(database.db, number)).filter(
        (row) => row.reason === 'remedy_approval_missed',
      );
    await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
    expect(await missed()).toEqual([]);
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () =>
      expect((await missed()).map((row) => [row.level, Date.parse(row.missedDeadline)])).toEqual([
        [2, dueMs],
      ]),
    );
    await env.sleep(7 * DAY);
    expect(await missed()).toHaveLength(1);
  });
});

/** The deadline a clock counts to, from its own start in the workflow state and its policy length. */
function dueOf(clock: ClockState | undefined, length: string): number {
  const duration = parseDuration(length);
  if (!duration) throw new Error(`${length} does not parse`);
  return deadlineAfter(Date.parse(clock?.startedAt ?? ''), duration, defaults.calendar);
}

/**
 * A wait's clock escalates to the supervisor exactly at its deadline, once: nothing a second
 * before, the escalation (and its notice to the supervisor) at it, nothing more a week later.
 */
async function expectEscalatesOnce(number: string, reason: string, dueMs: number): Promise<void> {
  const missed = async () =>
    (await listTicketEscalations(database.db, number)).filter((row) => row.reason === reason);
  await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
  expect(await missed()).toEqual([]);
  await env.sleep(2 * SECOND);
  await vi.waitFor(async () =>
    expect((await missed()).map((row) => [row.level, Date.parse(row.missedDeadline)])).toEqual([[1, dueMs]]),
  );
  const notices = await database.db
    .select({ recipientRole: notifications.recipientRole, data: notifications.data })
    .from(notifications)
    .where(eq(notifications.ticketNumber, number));
  expect(notices.filter((row) => row.data.reason === reason).map((row) => row.recipientRole)).toContain(
    'supervisor',
  );
  await env.sleep(7 * DAY);
  expect(await missed()).toHaveLength(1);
}

describe('the waits of an approved return at their real lengths', () => {
  async function receivedReturn() {
    const { number, handle } = await requestedReturn();
    await handle.executeUpdate(actionUpdates.approve, { args: [{ actor: MANAGER, input: {} }] });
    const state = await handle.executeUpdate(actionUpdates['receive-return'], {
      args: [{ actor: AGENT, input: { signedBy: 'wh-1' } }],
    });
    return { number, handle, state };
  }

  it('a received return nobody inspects escalates to the supervisor once, at 1 business day', async () => {
    const { number, handle, state } = await receivedReturn();
    const dueMs = dueOf(state.clocks.returnInspection, '1bd');
    expect(state.clocks.returnInspection).toMatchObject({
      duration: '1bd',
      dueAt: new Date(dueMs).toISOString(),
    });
    await expectEscalatesOnce(number, 'return_inspection_missed', dueMs);
    expect((await handle.query(ticketStateQuery)).status).toBe('inspecting');
  });

  it('a failed inspection nobody settles escalates to the supervisor once, at 3 business days', async () => {
    const { number, handle } = await receivedReturn();
    const failed = await handle.executeUpdate(actionUpdates['inspect-return'], {
      args: [{ actor: AGENT, input: { appearance: 'fail', function: 'pass' } }],
    });
    expect(failed.clocks.returnInspection?.metAt).not.toBeNull();
    const dueMs = dueOf(failed.clocks.returnNegotiation, '3bd');
    expect(failed.clocks.returnNegotiation).toMatchObject({
      duration: '3bd',
      dueAt: new Date(dueMs).toISOString(),
    });
    await expectEscalatesOnce(number, 'return_negotiation_missed', dueMs);
    expect((await handle.query(ticketStateQuery)).status).toBe('negotiating');
  });
});

describe('the waits of an approved exchange at their real lengths', () => {
  const partNumber = `KFR-WAIT-${process.pid}`;
  const warehouse = `wh-wait-${process.pid}`;

  beforeAll(async () => {
    await upsertLocation(database.db, { id: warehouse, kind: 'warehouse', name: '换货仓' });
    await upsertPart(database.db, {
      partNumber,
      name: '空调整机',
      productLines: ['aircon'],
      unitCost: 150_000,
      unitPrice: 299_900,
    });
    await recordStockRequest(database.db, {
      partNumber,
      lines: [{ kind: 'receipt', locationId: warehouse, quantity: 10 }],
      actorId: 'parts-1',
      approvalThresholdFen: 100_000_000,
    });
  });

  async function approvedExchange() {
    const { number, handle } = await requestedReturn('exchange');
    const state = await handle.executeUpdate(actionUpdates.approve, {
      args: [{ actor: MANAGER, input: {} }],
    });
    return { number, handle, state };
  }

  async function shippedExchange() {
    const { number, handle } = await approvedExchange();
    await reserveForTicket(database.db, {
      ticketNumber: number,
      lines: [{ partNumber, quantity: 1 }],
      assignee: null,
      freeUnderWarranty: true,
      actorId: 'parts-1',
    });
    const state = await handle.executeUpdate(actionUpdates['ship-replacement'], {
      args: [{ actor: PARTS, input: { partNumber, carrier: 'SF Express', trackingNumber: 'SF555' } }],
    });
    return { number, handle, state };
  }

  it('a replacement nobody ships escalates to the supervisor once, at 1 business day', async () => {
    const { number, handle, state } = await approvedExchange();
    const dueMs = dueOf(state.clocks.replacementShipment, '1bd');
    expect(state.clocks.replacementShipment).toMatchObject({
      duration: '1bd',
      dueAt: new Date(dueMs).toISOString(),
    });
    await expectEscalatesOnce(number, 'replacement_shipment_missed', dueMs);
    expect((await handle.query(ticketStateQuery)).status).toBe('exchanging');
  });

  it('a replacement the customer does not answer escalates to the supervisor once, at 7 days', async () => {
    const { number, handle, state } = await shippedExchange();
    expect(state.clocks.replacementShipment?.metAt).not.toBeNull();
    const dueMs = Date.parse(state.clocks.replacementConfirmation?.startedAt ?? '') + 7 * DAY;
    expect(state.clocks.replacementConfirmation).toMatchObject({
      duration: '7d',
      dueAt: new Date(dueMs).toISOString(),
    });
    await expectEscalatesOnce(number, 'replacement_confirmation_missed', dueMs);
    expect((await handle.query(ticketStateQuery)).status).toBe('replacement_shipped');
  });

  it('a unit that does not come back after the acceptance escalates to the supervisor once, at 7 days', async () => {
    const { number, handle } = await shippedExchange();
    const accepted = await handle.executeUpdate(actionUpdates['confirm-replacement'], {
      args: [{ actor: AGENT, input: { accepted: true } }],
    });
    expect(accepted.status).toBe('awaiting_unit');
    const dueMs = Date.parse(accepted.clocks.unitReturn?.startedAt ?? '') + 7 * DAY;
    expect(accepted.clocks.unitReturn).toMatchObject({
      duration: '7d',
      dueAt: new Date(dueMs).toISOString(),
    });
    await expectEscalatesOnce(number, 'unit_return_missed', dueMs);
    expect((await handle.query(ticketStateQuery)).status).toBe('awaiting_unit');
  });
});

describe('the payment clock at its real length', () => {
  it('the work of a consented quote done and not paid escalates to the supervisor once, at 3 days', async () => {
    const number = uniqueTicketNumber();
    const ticket = openTicket({
      number,
      intake: intake({
        product: { model: 'KFR-35GW/ABC123', serialNumber: `SN-${number}`, purchaseDate: '2020-01-01' },
      }),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: await env.currentTimeMs(),
      policy: defaults,
    });
    const handle = await env.client.workflow.start(ticketWorkflow, {
      workflowId: workflowIdOf(number),
      taskQueue,
      args: [{ ticket, policy: defaults }],
    });
    const update = <A extends 'acknowledge' | 'quote' | 'consent' | 'resolve'>(action: A, input: unknown) =>
      handle.executeUpdate(actionUpdates[action], { args: [{ actor: AGENT, input: input as never }] });
    await update('acknowledge', {});
    await update('quote', {});
    await update('consent', { accepted: true });
    const resolved = await update('resolve', { diagnosis: 'x', fix: 'y', functionalTest: 'passed' });
    const dueMs = Date.parse(resolved.clocks.payment?.startedAt ?? '') + 3 * DAY;
    expect(resolved.clocks.payment).toMatchObject({ duration: '3d', dueAt: new Date(dueMs).toISOString() });
    await expectEscalatesOnce(number, 'payment_missed', dueMs);
    expect((await handle.query(ticketStateQuery)).payment).toBeNull();
  });
});
