import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listTicketEscalations } from '../../db/ticket-store';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';

/**
 * Scaling out: two worker processes on one task queue share the tickets; when one stops (a rolling
 * restart, a scaled-down replica) the other carries every ticket on — actions answer, clocks fire.
 */
const taskQueue = `two-workers-${process.pid}`;
const TICKETS = 8;
let stack: ApiStack;
const workers: { child: ChildProcess; log: () => string }[] = [];

async function startWorker() {
  const { child, output } = await startWorkerProcess({
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKER_METRICS_ADDRESS: 'off',
    WORKER_SHUTDOWN_GRACE_SECONDS: '2',
  });
  let log = output;
  const collect = (chunk: Buffer) => {
    log += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const worker = { child, log: () => log };
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  stack = await startApi({ taskQueue, policy: { firstResponse: '8s' } });
});

afterAll(async () => {
  for (const { child } of workers) child.kill('SIGKILL');
  await stack?.close();
});

const call = (url: string, payload: Record<string, unknown>) =>
  stack.app.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${ADMIN_KEY}` } });

describe('two workers on one task queue', () => {
  it('share the tickets, and one carries on alone when the other stops', async () => {
    const [first, second] = [await startWorker(), await startWorker()];
    const numbers: string[] = [];
    for (let index = 0; index < TICKETS; index += 1) {
      const created = await call('/v1/tickets', {
        channel: 'app',
        category: 'fault',
        priority: 'normal',
        customer: { name: '赵六', phone: `136${randomInt(10_000_000, 99_999_999)}` },
        description: `Two workers ${index}`,
      });
      expect(created.statusCode).toBe(201);
      numbers.push(created.json().number);
    }
    // Each process recorded some of the tickets' openings: the work is shared.
    const handled = (worker: typeof first) =>
      numbers.filter((number) => worker.log().includes(`ticket-${number}`));
    await vi.waitFor(
      () => expect(handled(first).length + handled(second).length).toBeGreaterThanOrEqual(TICKETS),
      {
        timeout: 15_000,
        interval: 200,
      },
    );
    expect(handled(first).length).toBeGreaterThan(0);
    expect(handled(second).length).toBeGreaterThan(0);

    first.child.kill('SIGTERM');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(first.log()).toContain('worker stopped');

    // Half the tickets are acknowledged through the survivor; the other half escalate on time, once.
    const [acknowledged, waiting] = [numbers.slice(0, TICKETS / 2), numbers.slice(TICKETS / 2)];
    for (const number of acknowledged) {
      const response = await call(`/v1/tickets/${number}/acknowledge`, {});
      expect(response.statusCode).toBe(200);
      expect(response.json().status).toBe('acknowledged');
    }
    await vi.waitFor(
      async () => {
        for (const number of waiting)
          expect(await listTicketEscalations(stack.database.db, number)).toHaveLength(1);
      },
      { timeout: 30_000, interval: 500 },
    );
    for (const number of acknowledged)
      expect(await listTicketEscalations(stack.database.db, number)).toEqual([]);
  });
});
