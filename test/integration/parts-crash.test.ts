import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listTicketReservations, upsertLocation } from '../../db/parts-store';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';

/**
 * A worker killed with SIGKILL while a cancelled ticket releases its parts, or a re-planned one what
 * the plan no longer needs: the next worker replays the step and releases them, once. Nothing stays
 * reserved for a ticket that no longer needs it.
 */
const taskQueue = `parts-crash-${process.pid}`;
const tag = `${process.pid}-${randomInt(1e9)}`;
const WAREHOUSE = `wh-crash-${tag}`;
let stack: ApiStack;
const workers: ChildProcess[] = [];

async function startWorker(): Promise<ChildProcess> {
  const { child } = await startWorkerProcess({ TEMPORAL_TASK_QUEUE: taskQueue });
  workers.push(child);
  return child;
}

/** The one worker on the task queue: any an earlier test left running is killed first. */
async function onlyWorker(): Promise<ChildProcess> {
  for (const worker of workers.splice(0)) {
    if (worker.exitCode !== null || worker.signalCode !== null) continue;
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
  return startWorker();
}

beforeAll(async () => {
  stack = await startApi({ taskQueue, policy: {} });
  await upsertLocation(stack.database.db, { id: WAREHOUSE, kind: 'warehouse', name: '仓库' });
});

afterAll(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await stack?.close();
});

const call = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
  stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${ADMIN_KEY}` } });

/** A part with five in the warehouse, and a ticket holding three of them. */
async function ticketHoldingThree(): Promise<{ partNumber: string; number: string }> {
  const partNumber = `CR-${randomInt(1e9)}`;
  expect(
    (
      await call('POST', '/v1/parts', {
        partNumber,
        name: '电机',
        productLines: ['washer'],
        unitCost: 10_000,
        unitPrice: 15_000,
      })
    ).statusCode,
  ).toBe(201);
  await call('POST', '/v1/stock/receipts', {
    partNumber,
    locationId: WAREHOUSE,
    accepted: 5,
    reference: 'PO',
  });
  const created = await call('POST', '/v1/tickets', {
    channel: 'app',
    category: 'fault',
    priority: 'normal',
    customer: { name: '王五', phone: `137${randomInt(10_000_000, 99_999_999)}` },
    description: 'Washing machine leaks',
  });
  const { number } = created.json();
  const reserved = await call('POST', `/v1/tickets/${number}/parts-request`, {
    lines: [{ partNumber, quantity: 3 }],
  });
  expect(reserved.json().reservations).toMatchObject([{ quantity: 3, status: 'reserved' }]);
  return { partNumber, number };
}

describe('a worker crash while a ticket releases its parts', () => {
  it('SIGKILL as the cancel is recorded: the next worker releases the reservation, once', async () => {
    const first = await startWorker();
    const { partNumber, number } = await ticketHoldingThree();

    const cancelling = call('POST', `/v1/tickets/${number}/cancel`, { reason: '客户取消' });
    await vi.waitFor(
      async () => expect((await call('GET', `/v1/tickets/${number}`)).json().status).toBe('cancelled'),
      { timeout: 15_000, interval: 10 },
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await startWorker();
    expect((await cancelling).statusCode).toBe(200);

    await vi.waitFor(
      async () => {
        const [reservation] = await listTicketReservations(stack.database.db, number);
        expect(reservation).toMatchObject({ status: 'released', issuedQuantity: 0 });
      },
      { timeout: 30_000, interval: 250 },
    );
    const part = (await call('GET', `/v1/parts/${partNumber}`)).json();
    expect(part.stock).toEqual([{ locationId: WAREHOUSE, onHand: 5, reserved: 0, available: 5 }]);
    const ledger = (await call('GET', `/v1/stock/movements?partNumber=${partNumber}`)).json().items;
    expect(ledger.map((row: { kind: string }) => row.kind)).toEqual(['receipt']);
  });

  it('SIGKILL as a changed plan is recorded: the next worker releases what it no longer needs, once', async () => {
    const first = await onlyWorker();
    const { partNumber, number } = await ticketHoldingThree();
    await call('POST', `/v1/tickets/${number}/acknowledge`, {});
    const replanning = call('POST', `/v1/tickets/${number}/plan`, {
      measures: '只需一个',
      department: 'field-service',
      customerConfirmed: true,
      dispatch: false,
      parts: [{ partNumber, quantity: 1 }],
    });
    await vi.waitFor(
      async () => expect((await call('GET', `/v1/tickets/${number}`)).json().status).toBe('planned'),
      { timeout: 15_000, interval: 10 },
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await startWorker();
    expect((await replanning).statusCode).toBe(200);

    await vi.waitFor(
      async () => {
        const rows = await listTicketReservations(stack.database.db, number);
        expect(rows.map((row) => [row.quantity, row.status])).toEqual([
          [1, 'reserved'],
          [2, 'released'],
        ]);
      },
      { timeout: 30_000, interval: 250 },
    );
    const part = (await call('GET', `/v1/parts/${partNumber}`)).json();
    expect(part.stock).toEqual([{ locationId: WAREHOUSE, onHand: 5, reserved: 1, available: 4 }]);
    const events = (await call('GET', `/v1/tickets/${number}/events`)).json().events;
    expect(events.filter((event: { type: string }) => event.type === 'parts_released')).toHaveLength(1);
  });
});
