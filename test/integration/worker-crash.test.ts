import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listTicketEscalations, listTicketEvents } from '../../db/ticket-store';
import { workflowIdOf } from '../../domain/ticket';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';

/**
 * The guarantee behind the product: a worker killed with SIGKILL while a ticket waits on its
 * first-response timer loses nothing. Another worker process picks the workflow up and the
 * escalation is recorded exactly once.
 */
const taskQueue = `worker-crash-${process.pid}`;
let stack: ApiStack;
const workers: ChildProcess[] = [];

async function startWorker(): Promise<ChildProcess> {
  const { child } = await startWorkerProcess({ TEMPORAL_TASK_QUEUE: taskQueue });
  workers.push(child);
  return child;
}

beforeAll(async () => {
  stack = await startApi({ taskQueue, policy: { firstResponse: '12s' } });
});

afterAll(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await stack?.close();
});

describe('a worker crash', () => {
  it('SIGKILL of the worker while a ticket waits: a new worker still escalates it, once', async () => {
    const first = await startWorker();
    const created = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: {
        channel: 'app',
        category: 'fault',
        priority: 'urgent',
        customer: { name: '王五', phone: '13700001111' },
        description: 'Washing machine leaks',
      },
    });
    const { number, sla } = created.json();
    const handle = stack.temporal.workflow.getHandle(workflowIdOf(number));
    // The first worker has taken the ticket: its first-response timer is running.
    await vi.waitFor(
      async () => {
        const history = await handle.fetchHistory();
        expect(history.events?.some((event) => event.timerStartedEventAttributes)).toBe(true);
      },
      { timeout: 10_000, interval: 100 },
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await startWorker();
    const [escalation] = await vi.waitFor(
      async () => {
        const rows = await listTicketEscalations(stack.database.db, number);
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 30_000, interval: 250 },
    );
    expect(escalation).toMatchObject({
      level: 1,
      reason: 'first_response_missed',
      missedDeadline: expect.any(String),
    });
    expect(new Date(escalation!.missedDeadline).toISOString()).toBe(sla.firstResponse.dueAt);

    // Give a duplicate every chance to appear, then count.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await listTicketEscalations(stack.database.db, number)).toHaveLength(1);
    const events = await listTicketEvents(stack.database.db, number);
    expect(events.filter((event) => event.type === 'escalated')).toHaveLength(1);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
  });
});
