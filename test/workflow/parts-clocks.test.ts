import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import {
  listTicketReservations,
  recordStockRequest,
  releaseUnplanned,
  reserveForTicket,
  upsertLocation,
  upsertPart,
} from '../../db/parts-store';
import { listTicketEscalations, listTicketEvents } from '../../db/ticket-store';
import { parseDuration, type SlaDuration } from '../../domain/durations';
import { openTicket } from '../../domain/lifecycle';
import type { PartsEvent } from '../../domain/parts';
import { deadlineAfter } from '../../domain/policy';
import { workflowIdOf, type ClockName, type TicketState } from '../../domain/ticket';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates, partsUpdate, ticketStateQuery } from '../../workflows/messages';
import {
  AGENT,
  intake,
  policy,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  TEST_PAYLOAD_KEYS,
  testDataConverter,
  uniqueTicketNumber,
} from '../support/fixtures';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../worker/worker';
import { createTimeSkippingEnvironment, runTicketWorker, type RunningWorker } from '../support/temporal';

/**
 * The parts clocks at their real default lengths (waiting for parts 2 business days, a manager's
 * approval of a valuable part 4 business hours), on Temporal's time-skipping test server with the
 * real activities writing to PostgreSQL.
 */
const SECOND = 1_000;
const defaults = policy({ qcSampleRate: 0 });
const taskQueue = `parts-clocks-${process.pid}`;
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

async function acknowledgedTicket(): Promise<{
  number: string;
  handle: WorkflowHandle<typeof ticketWorkflow>;
}> {
  const number = uniqueTicketNumber();
  const ticket = openTicket({
    number,
    intake: intake(),
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
  await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor: SUPERVISOR, input: {} }] });
  return { number, handle };
}

const tell = (handle: WorkflowHandle<typeof ticketWorkflow>, event: PartsEvent): Promise<TicketState> =>
  handle.executeUpdate(partsUpdate, { args: [{ actor: SUPERVISOR, event }] });

/** The clock's escalations as written to PostgreSQL (other clocks of the ticket escalate too). */
async function escalationsOf(number: string, clock: ClockName) {
  return (await listTicketEscalations(database.db, number)).filter((row) => row.clock === clock);
}

const duration = (text: string): SlaDuration => {
  const parsed = parseDuration(text);
  if (!parsed) throw new Error(`${text} is not a duration`);
  return parsed;
};

describe('the parts clocks at their real lengths', () => {
  it('waiting for parts escalates to the supervisor when 2 business days pass', async () => {
    const { number, handle } = await acknowledgedTicket();
    const state = await tell(handle, { kind: 'waiting', shortfalls: [{ partNumber: 'C123', quantity: 1 }] });
    const clock = state.clocks.partsWait;
    const dueMs = deadlineAfter(Date.parse(clock?.startedAt ?? ''), duration('2bd'), defaults.calendar);
    expect(clock).toMatchObject({ duration: '2bd', dueAt: new Date(dueMs).toISOString(), metAt: null });

    await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
    expect(await escalationsOf(number, 'partsWait')).toEqual([]);
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () => {
      const rows = await escalationsOf(number, 'partsWait');
      expect(rows.map((row) => [row.level, row.reason, Date.parse(row.missedDeadline)])).toEqual([
        [1, 'parts_wait_missed', dueMs],
      ]);
    });
    const after = await handle.query(ticketStateQuery);
    expect(after.clocks.partsWait?.breachedAt).not.toBeNull();
  });

  it('a valuable part nobody approves escalates to the manager when 4 business hours pass', async () => {
    const { number, handle } = await acknowledgedTicket();
    const state = await tell(handle, { kind: 'approval_requested', partNumbers: ['COMP-1'] });
    const clock = state.clocks.partsApproval;
    const dueMs = deadlineAfter(Date.parse(clock?.startedAt ?? ''), duration('4bh'), defaults.calendar);
    expect(clock).toMatchObject({ duration: '4bh', dueAt: new Date(dueMs).toISOString() });

    await env.sleep(dueMs - (await env.currentTimeMs()) - SECOND);
    expect(await escalationsOf(number, 'partsApproval')).toEqual([]);
    await env.sleep(2 * SECOND);
    await vi.waitFor(async () =>
      expect(await escalationsOf(number, 'partsApproval')).toMatchObject([
        { level: 2, reason: 'parts_approval_missed' },
      ]),
    );
  });

  it('parts that arrive and an approval given in time stop their clocks: nothing escalates', async () => {
    const { number, handle } = await acknowledgedTicket();
    await tell(handle, { kind: 'waiting', shortfalls: [{ partNumber: 'C123', quantity: 2 }] });
    await tell(handle, { kind: 'approval_requested', partNumbers: ['COMP-1', 'COMP-2'] });
    await env.sleep(60 * SECOND);
    await tell(handle, { kind: 'ready' });
    const oneLeft = await tell(handle, { kind: 'approval_decided', pending: 1 });
    expect(oneLeft.clocks.partsApproval?.metAt).toBeNull();
    const decided = await tell(handle, { kind: 'approval_decided', pending: 0 });
    expect(decided.clocks.partsWait?.metAt).not.toBeNull();
    expect(decided.clocks.partsApproval?.metAt).not.toBeNull();
    await env.sleep(7 * 24 * 3_600 * SECOND);
    expect(await escalationsOf(number, 'partsWait')).toEqual([]);
    expect(await escalationsOf(number, 'partsApproval')).toEqual([]);
  });
});

describe('a changed plan and the parts it no longer needs', () => {
  it('releases them through the workflow once, stops the clocks, and replays deterministically', async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const [kept, dropped, warehouse] = [`PK-${tag}`, `PD-${tag}`, `wh-plan-${tag}`];
    const catalogue = { name: '电容', productLines: ['aircon'], unitCost: 100, unitPrice: 200 };
    await upsertLocation(database.db, { id: warehouse, kind: 'warehouse', name: '仓库' });
    await upsertPart(database.db, { ...catalogue, partNumber: kept });
    await upsertPart(database.db, { ...catalogue, partNumber: dropped, valuable: true });
    await recordStockRequest(database.db, {
      partNumber: kept,
      lines: [{ kind: 'receipt', locationId: warehouse, quantity: 5 }],
      actorId: 'parts-1',
      approvalThresholdFen: 100_000,
    });
    const { number, handle } = await acknowledgedTicket();
    const request = (partNumber: string, quantity: number) =>
      reserveForTicket(database.db, {
        ticketNumber: number,
        lines: [{ partNumber, quantity }],
        assignee: null,
        freeUnderWarranty: true,
        actorId: AGENT.id,
      });
    await request(kept, 4);
    await request(dropped, 1);
    await tell(handle, { kind: 'waiting', shortfalls: [{ partNumber: dropped, quantity: 1 }] });
    await tell(handle, { kind: 'approval_requested', partNumbers: [dropped] });

    const plan = {
      measures: '换电容',
      department: 'field-service',
      customerConfirmed: true,
      dispatch: false,
    };
    const state = await handle.executeUpdate(actionUpdates.plan, {
      args: [{ actor: AGENT, input: { ...plan, parts: [{ partNumber: kept, quantity: 2 }] } }],
    });
    expect(state.clocks.partsWait?.metAt).not.toBeNull();
    expect(state.clocks.partsApproval?.metAt).not.toBeNull();
    const rows = await listTicketReservations(database.db, number);
    expect(rows.map((row) => [row.partNumber, row.quantity, row.status])).toEqual([
      [kept, 2, 'reserved'],
      [kept, 2, 'released'],
    ]);
    const events = (await listTicketEvents(database.db, number, { limit: 100 })).map((event) => event.type);
    // The plan's progress SMS to the customer is a notification event between them.
    expect(events.filter((type) => type !== 'notification').slice(-3)).toEqual([
      'planned',
      'parts_released',
      'parts_ready',
    ]);

    // The step again (a worker killed after its commit, before the workflow heard): it writes
    // nothing, even though the ticket reserved more since, and answers what it first did.
    await request(kept, 1);
    const again = await releaseUnplanned(database.db, {
      ticketNumber: number,
      keep: { [kept]: 2 },
      key: `parts:${number}:v${state.version - 1}`,
    });
    expect(again).toMatchObject({
      released: [{ partNumber: kept, quantity: 2 }],
      withdrawn: [{ partNumber: dropped, quantity: 1 }],
    });
    expect(
      (await listTicketReservations(database.db, number)).filter((row) => row.status === 'reserved'),
    ).toHaveLength(2);

    await Worker.runReplayHistory(
      {
        workflowsPath: WORKFLOWS_PATH,
        bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
        dataConverter: testDataConverter,
      },
      await handle.fetchHistory(),
    );
  });
});
