import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listTicketEvents } from '../../db/ticket-store';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * An action whose ticket workflow cannot answer (no worker on its task queue, a stuck workflow)
 * does not hold the HTTP request forever: after ACTION_TIMEOUT_SECONDS it is a 503 that says the
 * action may still apply, and a retry with the same Idempotency-Key gets the one result.
 */
let stack: ApiStack;
let stopWorker: (() => Promise<void>) | undefined;

beforeAll(async () => {
  stack = await startApi({
    taskQueue: `action-timeout-${process.pid}`,
    policy: {},
    env: { ACTION_TIMEOUT_SECONDS: '2' },
  });
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

const call = (url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  stack.app.inject({
    method: 'POST',
    url,
    payload,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers },
  });

describe('an action the workflow cannot answer', () => {
  it('is a 503 after the timeout, and the retry with the same key applies it once', async () => {
    const created = await call('/v1/tickets', {
      channel: 'web',
      category: 'fault',
      priority: 'normal',
      customer: { name: '钱七', phone: '13600001234' },
      description: 'No worker is running yet',
    });
    expect(created.statusCode).toBe(201);
    const number = created.json().number as string;
    const key = { 'idempotency-key': `ack-${number}` };

    const startedMs = Date.now();
    const waited = await call(`/v1/tickets/${number}/acknowledge`, {}, key);
    const elapsedMs = Date.now() - startedMs;
    expect(waited.statusCode).toBe(503);
    expect(waited.json().detail).toBe(
      "the ticket's workflow did not answer within 2 s; the action may still apply — retry with the same Idempotency-Key",
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(2_000);
    expect(elapsedMs).toBeLessThan(6_000);

    stopWorker = await runWorkerFor(stack.config, stack.database.db);
    const retried = await vi.waitFor(
      async () => {
        const response = await call(`/v1/tickets/${number}/acknowledge`, {}, key);
        expect(response.statusCode).toBe(200);
        return response;
      },
      { timeout: 20_000, interval: 500 },
    );
    expect(retried.json().status).toBe('acknowledged');
    const events = await listTicketEvents(stack.database.db, number);
    expect(events.filter((event) => event.type === 'acknowledged')).toHaveLength(1);
  });
});
