import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { listTicketEscalations, listTicketEvents } from '../../db/ticket-store';
import { openTicket } from '../../domain/lifecycle';
import { workflowIdOf } from '../../domain/ticket';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates, ticketStateQuery } from '../../workflows/messages';
import {
  AGENT,
  intake,
  policy,
  serviceRecord,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  uniqueTicketNumber,
  TEST_PAYLOAD_KEYS,
} from '../support/fixtures';
import { runTicketWorker, startDevServerWith, type RunningWorker } from '../support/temporal';

/**
 * Long lives (SPEC 2): a dev server that suggests continue-as-new after 40 history events forces
 * several continue-as-new cycles in the middle of a lifecycle; the running deadlines travel with the
 * state and fire once, on time.
 */
const taskQueue = `continue-as-new-${process.pid}`;
const slaPolicy = policy({ firstResponse: '60s', callback: '12s', escalationStep: '1h', qcSampleRate: 0 });
let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let worker: RunningWorker;

beforeAll(async () => {
  env = await startDevServerWith({ 'limit.historyCount.suggestContinueAsNew': 40 });
  database = connectDatabase(inject('databaseUrl'), { max: 4, payloadKeys: TEST_PAYLOAD_KEYS });
  worker = await runTicketWorker(env, taskQueue, database.db);
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await database?.close();
});

/** The workflow's runs: the first and one per continue-as-new. */
async function runsOf(number: string): Promise<number> {
  const workflowId = workflowIdOf(number);
  let runs = 0;
  for await (const run of env.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    if (run.workflowId === workflowId) runs += 1;
  }
  return runs;
}

describe('continue-as-new in the middle of a lifecycle', () => {
  it('carries state and running deadlines through several cycles: nothing lost, nothing doubled', async () => {
    const number = uniqueTicketNumber();
    const ticket = openTicket({
      number,
      intake: intake(),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: Date.now(),
      policy: slaPolicy,
    });
    const handle: WorkflowHandle<typeof ticketWorkflow> = await env.client.workflow.start(ticketWorkflow, {
      workflowId: workflowIdOf(number),
      taskQueue,
      args: [{ ticket, policy: slaPolicy }],
    });
    const send = <A extends 'acknowledge' | 'note' | 'resolve'>(action: A, input: object) =>
      handle.executeUpdate(actionUpdates[action], { args: [{ actor: SUPERVISOR, input: input as never }] });

    await send('acknowledge', {});
    const resolved = await send('resolve', serviceRecord);
    const callbackDueMs = Date.parse(resolved.clocks.callback?.dueAt ?? '');
    // Notes while the 12-second callback clock runs: every one adds history, so the server keeps
    // suggesting continue-as-new and the workflow keeps taking it.
    for (let index = 0; index < 30; index += 1) await send('note', { text: `note ${index}` });
    expect(Date.now()).toBeLessThan(callbackDueMs);
    const runs = await runsOf(number);
    expect(runs).toBeGreaterThanOrEqual(4);

    const [escalation] = await vi.waitFor(
      async () => {
        const rows = await listTicketEscalations(database.db, number);
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(escalation).toMatchObject({ clock: 'callback', reason: 'callback_missed' });
    const lateMs = Date.parse(escalation?.firedAt ?? '') - callbackDueMs;
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1_000);

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await listTicketEscalations(database.db, number)).toHaveLength(1);
    const state = await handle.query(ticketStateQuery);
    expect(state).toMatchObject({ status: 'resolved', escalationLevel: 1 });
    const events = await listTicketEvents(database.db, number);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.filter((event) => event.type === 'note')).toHaveLength(30);
    expect(events.filter((event) => event.type === 'escalated')).toHaveLength(1);
  });
});
