import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDatabase } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres';
import { upsertEngineer } from '../../db/engineer-store';
import { nextDeadline } from '../../domain/clocks';
import { openTicket, type ActionName, type ActionPayload } from '../../domain/lifecycle';
import { workflowIdOf, type Actor, type Priority, type TicketState } from '../../domain/ticket';
import { resolveTemporalBinary, TEMPORAL_TEST_SERVER } from '../../temporal/binaries';
import { registerSearchAttributes } from '../../temporal/register-search-attributes';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates, ticketStateQuery, type ActionUpdate } from '../../workflows/messages';
import { createTicketWorker } from '../../worker/worker';
import {
  AGENT,
  intake,
  policy,
  satisfiedCallback,
  serviceRecord,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  testDataConverter,
  unhappyCallback,
  TEST_PAYLOAD_KEYS,
} from '../support/fixtures';

/**
 * Complete ticket lifecycles — the happy path, every unhappy path on one ticket, a cancellation — run
 * on the time-skipping test server with the real worker and PostgreSQL, and their histories.
 * `npm run histories:record` keeps them for the replay test; `npm run bench` counts their events.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Every resolution is reviewed, so the histories cover the quality check.
const defaults = policy({ qcSampleRate: 1 });
const ENGINEER_A: Actor = { id: 'eng-a', role: 'engineer' };
const ENGINEER_B: Actor = { id: 'eng-b', role: 'engineer' };
const QC: Actor = { id: 'qc-1', role: 'qc' };
const DIRECTOR: Actor = { id: 'dir-1', role: 'director' };
const plan = { measures: 'Replace the fan motor', department: 'field-service', customerConfirmed: true };
const followUp = { contactMade: true, cause: 'Late visit', improvementPlan: 'Senior engineer revisits' };

type Handle = WorkflowHandle<typeof ticketWorkflow>;

export type LifecycleName = 'happy-path' | 'unhappy-paths' | 'cancelled';

export async function runLifecycles(): Promise<Record<LifecycleName, temporal.api.history.v1.IHistory>> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-histories-'));
  chmodSync(scratch, 0o755);
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(scratch, 'postgres'),
    port: 20_000 + Math.floor(Math.random() * 20_000),
  });
  await applyMigrations(postgres.url, TEST_PAYLOAD_KEYS);
  const database = connectDatabase(postgres.url, { max: 4, payloadKeys: TEST_PAYLOAD_KEYS });
  const { executable } = await resolveTemporalBinary(TEMPORAL_TEST_SERVER);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable },
    client: { dataConverter: testDataConverter },
  });
  await registerSearchAttributes(env.connection, 'default');
  const taskQueue = 'record-histories';
  const worker = await createTicketWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    dataConverter: testDataConverter,
    dependencies: { db: database.db },
  });

  for (const id of ['eng-a', 'eng-b']) {
    await upsertEngineer(database.db, {
      id,
      name: id,
      skills: ['air-conditioner'],
      regions: ['shanghai'],
    });
  }

  async function start(number: string, priority: Priority = 'urgent'): Promise<Handle> {
    const ticket = openTicket({
      number,
      intake: intake({
        priority,
        customer: { name: '张三', phone: '13812345678', region: 'shanghai' },
        product: { model: 'KFR-35GW/ABC123', line: 'air-conditioner', serialNumber: number },
      }),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: await env.currentTimeMs(),
      policy: defaults,
    });
    return env.client.workflow.start(ticketWorkflow, {
      workflowId: workflowIdOf(number),
      taskQueue,
      args: [{ ticket, policy: defaults }],
    });
  }

  const send = async <A extends ActionName>(
    handle: Handle,
    action: A,
    input: ActionPayload<A>,
    actor: Actor,
  ) => handle.executeUpdate(actionUpdates[action] as ActionUpdate<A>, { args: [{ actor, input }] });

  /** The workflow dispatches on its own after a plan; wait (in real time) until it has. */
  async function until(handle: Handle, done: (state: TicketState) => boolean): Promise<TicketState> {
    for (let tries = 0; tries < 200; tries += 1) {
      const state = await handle.query(ticketStateQuery);
      if (done(state)) return state;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${handle.workflowId} did not reach the expected state`);
  }

  /** Waits (in real time) until the ticket has no workflow task scheduled or running. */
  async function settled(handle: Handle): Promise<void> {
    for (let tries = 0; tries < 400; tries += 1) {
      if (!(await handle.describe()).raw.pendingWorkflowTask) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${handle.workflowId} kept a workflow task pending`);
  }

  /**
   * Skips time, then lets a deadline that falls due as the skip ends fire before the next action.
   * A skip that stops on a due timer (25 h after a 24 h callback clock is exactly its next
   * escalation step) leaves that timer firing in real time while the next Update's workflow task
   * cancels it; the time-skipping server refuses that completion ("invalid history builder state
   * for action", temporalio/sdk-java#2606) and the run is stranded (#3088). Here the deadline fires
   * first, so every run records the same history.
   */
  async function skip(handle: Handle, ms: number): Promise<void> {
    await env.sleep(ms);
    for (;;) {
      await settled(handle);
      const next = nextDeadline(await handle.query(ticketStateQuery));
      const now = await env.currentTimeMs();
      if (!next || next.dueAtMs - now > 10_000) return;
      await env.sleep(Math.max(next.dueAtMs - now, 0) + 1_000);
    }
  }

  const sup = SUPERVISOR;
  const slotIn = async (ms: number) => new Date((await env.currentTimeMs()) + ms).toISOString();
  const scenarios: Record<LifecycleName, () => Promise<Handle>> = {
    async 'happy-path'() {
      const handle = await start('WO20260101-001');
      await skip(handle, 3 * MINUTE);
      await send(handle, 'acknowledge', {}, AGENT);
      await send(handle, 'plan', plan, sup);
      await until(handle, (state) => state.status === 'assigned');
      await send(handle, 'accept', {}, ENGINEER_A);
      await send(handle, 'schedule', { slotStart: await slotIn(3 * HOUR) }, ENGINEER_A);
      await skip(handle, 3 * HOUR);
      await send(handle, 'start', { mode: 'onsite' }, ENGINEER_A);
      await send(handle, 'resolve', serviceRecord, ENGINEER_A);
      await send(handle, 'qc-review', { score: 95 }, QC);
      await send(handle, 'callback', satisfiedCallback, AGENT);
      await env.sleep(31 * DAY);
      await handle.result();
      return handle;
    },
    async 'unhappy-paths'() {
      const handle = await start('WO20260101-002');
      await skip(handle, 11 * MINUTE);
      await send(handle, 'escalation-ack', {}, sup);
      await send(handle, 'acknowledge', { note: 'late' }, AGENT);
      await send(handle, 'plan', plan, sup);
      const offered = await until(handle, (state) => state.status === 'assigned');
      const first = offered.assignee === 'eng-a' ? ENGINEER_A : ENGINEER_B;
      await send(handle, 'decline', { reason: 'Out of parts' }, first);
      await until(handle, (state) => state.status === 'assigned' && state.assignee !== first.id);
      await skip(handle, 16 * MINUTE);
      await until(handle, (state) => state.dispatch.manual);
      await send(handle, 'assign', { engineerId: 'eng-a' }, sup);
      await send(handle, 'accept', {}, ENGINEER_A);
      await send(handle, 'hold', { reason: 'Customer travelling' }, sup);
      await skip(handle, 2 * DAY);
      await send(handle, 'resume', {}, sup);
      await send(handle, 'schedule', { slotStart: await slotIn(2 * HOUR) }, ENGINEER_A);
      await send(handle, 'schedule', { slotStart: await slotIn(5 * HOUR) }, ENGINEER_A);
      await send(handle, 'start', { mode: 'remote' }, ENGINEER_A);
      await send(handle, 'resolve', serviceRecord, ENGINEER_A);
      await send(
        handle,
        'qc-review',
        { score: 60, responsible: { id: ENGINEER_A.id, role: 'engineer' } },
        QC,
      );
      await send(handle, 'plan', { ...plan, dispatch: false }, sup);
      await send(handle, 'resolve', serviceRecord, AGENT);
      await send(handle, 'qc-review', { score: 80 }, QC);
      await send(handle, 'callback', unhappyCallback, AGENT);
      await skip(handle, 2 * HOUR);
      await send(handle, 'escalation-ack', {}, sup);
      await send(handle, 'follow-up', followUp, sup);
      await send(handle, 'callback', unhappyCallback, AGENT);
      await send(handle, 'plan', { ...plan, kind: 'director' }, DIRECTOR);
      await send(handle, 'follow-up', followUp, sup);
      await send(handle, 'callback', satisfiedCallback, AGENT);
      await skip(handle, DAY);
      await send(handle, 'reopen', { reason: 'Noise is back' }, AGENT);
      await send(handle, 'note', { text: 'Customer sent a video' }, AGENT);
      await send(handle, 'plan', { ...plan, dispatch: false }, sup);
      await send(handle, 'resolve', serviceRecord, AGENT);
      await send(handle, 'qc-review', { score: 90 }, QC);
      await skip(handle, 25 * HOUR);
      await send(handle, 'close', { reason: 'customer_unreachable' }, sup);
      await env.sleep(31 * DAY);
      await handle.result();
      return handle;
    },
    async cancelled() {
      const handle = await start('WO20260101-003', 'normal');
      await send(handle, 'acknowledge', {}, AGENT);
      await send(handle, 'classify', { priority: 'critical', reason: 'Smoke from the unit' }, sup);
      await send(handle, 'plan', { ...plan, kind: 'temporary' }, sup);
      await until(handle, (state) => state.status === 'assigned');
      await send(handle, 'cancel', { reason: 'Customer bought a new unit' }, AGENT);
      await handle.result();
      return handle;
    },
  };

  try {
    return await worker.runUntil(async () => {
      const recorded: Partial<Record<LifecycleName, temporal.api.history.v1.IHistory>> = {};
      for (const [name, run] of Object.entries(scenarios) as [LifecycleName, () => Promise<Handle>][]) {
        recorded[name] = await (await run()).fetchHistory();
      }
      return recorded as Record<LifecycleName, temporal.api.history.v1.IHistory>;
    });
  } finally {
    // A failed run stops its servers too: a stranded lifecycle used to leave its PostgreSQL running.
    await env.teardown();
    await database.close();
    await postgres.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
