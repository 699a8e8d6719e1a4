import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { listTicketEscalations, listTicketEvents } from '../../db/ticket-store';
import { openTicket, type ActionName, type ActionPayload } from '../../domain/lifecycle';
import { workflowIdOf, type Actor, type TicketState } from '../../domain/ticket';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates, ticketStateQuery } from '../../workflows/messages';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../worker/worker';
import {
  AGENT,
  intake,
  policy,
  serviceRecord,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  TEST_PAYLOAD_KEYS,
  testDataConverter,
  uniqueTicketNumber,
} from '../support/fixtures';
import { createTimeSkippingEnvironment, runTicketWorker, type RunningWorker } from '../support/temporal';

/**
 * A failed QC review's rectification (seed 000: 限期整改) at the policy's real length, five business
 * days, on Temporal's time-skipping test server with the real activities writing to PostgreSQL.
 */
const SECOND = 1_000;
const HOUR = 3_600 * SECOND;
const QC: Actor = { id: 'qc-1', role: 'qc' };
// Only the weekends: statutory days near today would shift the hand-computed deadline.
const slaPolicy = policy({ qcSampleRate: 0, warnAt: 0.8, calendar: { statutory: 'none' } });
const taskQueue = `rectification-${process.pid}`;
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

const local = (ms: number) => DateTime.fromMillis(ms, { zone: 'Asia/Shanghai' });
const opening = (day: DateTime) => day.set({ hour: 9, minute: 0, second: 0, millisecond: 0 });

/** Mon–Fri 09:00–18:00: the first instant at or after `at` that is working time. */
function firstWorkingInstant(at: DateTime): DateTime {
  let day = at.hour >= 18 ? opening(at.plus({ days: 1 })) : at;
  while (day.weekday > 5) day = opening(day.plus({ days: 1 }));
  return day.hour < 9 ? opening(day) : day;
}

/** Five working days of working time from `start` (no holidays), computed by hand. */
function fiveWorkingDaysFrom(start: DateTime): DateTime {
  const atOpening = start.toFormat('HH:mm:ss.SSS') === '09:00:00.000';
  const days: DateTime[] = [];
  for (let day = start.plus({ days: 1 }); days.length < 5; day = day.plus({ days: 1 })) {
    if (day.weekday <= 5) days.push(day);
  }
  const due = atOpening ? days[3]?.set({ hour: 18 }) : days[4];
  if (!due) throw new Error('no fifth working day');
  return due;
}

const rectificationRows = async (number: string) =>
  (await listTicketEscalations(database.db, number)).filter((row) => row.clock === 'rectification');

describe('the rectification clock at its real length', () => {
  it('a failed review’s rectification not recorded within 5 business days escalates exactly then, once, naming the person', async () => {
    const number = uniqueTicketNumber();
    const ticket = openTicket({
      number,
      intake: intake({ category: 'complaint' }),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: await env.currentTimeMs(),
      policy: slaPolicy,
    });
    const handle = await env.client.workflow.start(ticketWorkflow, {
      workflowId: workflowIdOf(number),
      taskQueue,
      args: [{ ticket, policy: slaPolicy }],
    });
    const update = <A extends ActionName>(action: A, input: ActionPayload<A>, actor: Actor) =>
      handle.executeUpdate(actionUpdates[action], { args: [{ actor, input }] });
    await update('acknowledge', {}, SUPERVISOR);
    await update('resolve', serviceRecord, SUPERVISOR);
    const reviewedAtMs = await env.currentTimeMs();
    await update(
      'qc-review',
      {
        aspects: { compliance: 55, effectiveness: 60, communication: 70 },
        responsible: { id: 'eng-rectify', role: 'engineer' },
      },
      QC,
    );
    const state: TicketState = await handle.query(ticketStateQuery);
    // The clock starts when the workflow applies the review, a few milliseconds after the time read
    // above (the server's clock runs while it is locked): within business hours those count.
    const startedAtMs = Date.parse(state.clocks.rectification?.startedAt ?? '');
    expect(startedAtMs - reviewedAtMs).toBeGreaterThanOrEqual(0);
    expect(startedAtMs - reviewedAtMs).toBeLessThan(5 * SECOND);
    const expectedMs = fiveWorkingDaysFrom(firstWorkingInstant(local(startedAtMs))).toMillis();
    expect(state.clocks.rectification).toMatchObject({
      duration: '5bd',
      dueAt: new Date(expectedMs).toISOString(),
    });

    await env.sleep(expectedMs - (await env.currentTimeMs()) - SECOND);
    expect(await rectificationRows(number)).toEqual([]);
    const warned: TicketState = await handle.query(ticketStateQuery);
    expect(warned.clocks.rectification?.warnedAt).toEqual(expect.any(String));

    await env.sleep(2 * SECOND);
    const fired = await vi.waitFor(async () => {
      const rows = await rectificationRows(number);
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(fired[0]).toMatchObject({ level: 1, reason: 'rectification_missed' });
    expect(Date.parse(fired[0]?.firedAt ?? '') - expectedMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(fired[0]?.firedAt ?? '') - expectedMs).toBeLessThan(SECOND);
    const escalated = (await listTicketEvents(database.db, number)).filter(
      (event) => event.type === 'escalated' && event.data.clock === 'rectification',
    );
    expect(escalated).toMatchObject([{ data: { responsibleId: 'eng-rectify' } }]);

    await update('escalation-ack', {}, SUPERVISOR);
    await env.sleep(24 * HOUR);
    expect(await rectificationRows(number)).toHaveLength(1);
    // The rectification's timer and the patch marker replay: the history is deterministic.
    await Worker.runReplayHistory(
      {
        workflowsPath: WORKFLOWS_PATH,
        bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
        dataConverter: testDataConverter,
        replayName: 'rectification',
      },
      await handle.fetchHistory(),
    );
  });
});
