import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { listTicketEscalations } from '../../db/ticket-store';
import { parseDuration } from '../../domain/durations';
import { openTicket } from '../../domain/lifecycle';
import { deadlineAfter } from '../../domain/policy';
import { workflowIdOf, type Actor } from '../../domain/ticket';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates, ticketStateQuery } from '../../workflows/messages';
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
 * (1 business day).
 */
const SECOND = 1_000;
const DAY = 86_400 * SECOND;
const MANAGER: Actor = { id: 'mgr-1', role: 'manager' };
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

/** An acknowledged return of a product bought two days ago, requested with both proofs. */
async function requestedReturn() {
  const number = uniqueTicketNumber();
  const nowMs = await env.currentTimeMs();
  const purchaseDate = new Date(nowMs - 2 * DAY).toISOString().slice(0, 10);
  const ticket = openTicket({
    number,
    intake: intake({
      serviceType: 'return',
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
