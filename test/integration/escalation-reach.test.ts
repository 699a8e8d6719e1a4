import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { runRelayFor } from '../support/relay';
import { runWorkerFor } from '../support/temporal';

/**
 * Who is told, over HTTP on the real stack (PostgreSQL, the Temporal dev server, the worker and the
 * delivery relay): the warning before a breach, with a short policy (4 s first response, warnAt 0.5).
 */
const taskQueue = `escalation-reach-${process.pid}`;
let stack: ApiStack;
let stopWorker: () => Promise<void>;
let stopRelay: () => Promise<void>;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

beforeAll(async () => {
  stack = await startApi({ taskQueue, policy: { firstResponse: '4s', warnAt: 0.5, qcSampleRate: 0 } });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  stopRelay = await runRelayFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopRelay?.();
  await stopWorker?.();
  await stack?.close();
});

const get = async (url: string) => {
  const response = await stack.app.inject({ method: 'GET', url, headers: auth });
  expect(response.statusCode).toBe(200);
  return response.json();
};

interface SlaClock {
  dueAt: string;
  warnAt: string | null;
  warnedAt: string | null;
}

async function createTicket(): Promise<{ number: string; createdAt: string; sla: Record<string, SlaClock> }> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: auth,
    payload: {
      channel: 'phone',
      category: 'fault',
      priority: 'normal',
      customer: { name: '李四', phone: '13900001111' },
      product: { model: 'KFR-35GW/REACH', serialNumber: `SN-${Math.random().toString(36).slice(2)}` },
      description: 'Fridge does not cool',
    },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

describe('warnings before a breach over HTTP', () => {
  it('shows when the warning is due, sends it once to the agents, and escalates at the deadline', async () => {
    const ticket = await createTicket();
    const { warnAt, warnedAt, dueAt } = ticket.sla.firstResponse ?? { dueAt: '', warnAt: '', warnedAt: '' };
    expect(Date.parse(warnAt ?? '') - Date.parse(ticket.createdAt)).toBe(2_000);
    expect(Date.parse(dueAt) - Date.parse(ticket.createdAt)).toBe(4_000);
    expect(warnedAt).toBeNull();

    const warned = await vi.waitFor(
      async () => {
        const read = await get(`/v1/tickets/${ticket.number}`);
        expect(read.sla.firstResponse.warnedAt).not.toBeNull();
        return read;
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(Date.parse(warned.sla.firstResponse.warnedAt)).toBeGreaterThanOrEqual(Date.parse(warnAt ?? ''));
    const sent = await vi.waitFor(
      async () => {
        const { items } = await get(`/v1/tickets/${ticket.number}/notifications`);
        const warnings = items.filter((item: { kind: string }) => item.kind === 'clock_warning');
        expect(warnings).toMatchObject([
          { recipientRole: 'agent', channel: 'internal', status: 'delivered', recipient: 'role:agent' },
        ]);
        return warnings[0];
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(sent.body).toContain(`服务单 ${ticket.number} 的首次响应将于`);

    await vi.waitFor(
      async () => expect((await get(`/v1/tickets/${ticket.number}`)).escalationLevel).toBe(1),
      { timeout: 10_000, interval: 200 },
    );
    const { events } = await get(`/v1/tickets/${ticket.number}/events`);
    const types = events.map((event: { type: string }) => event.type);
    expect(types.filter((type: string) => type === 'sla_warning')).toHaveLength(1);
    expect(types.indexOf('sla_warning')).toBeLessThan(types.indexOf('escalated'));
  });

  it('documents warnAt and warnedAt on every SLA clock in the OpenAPI document', async () => {
    const document = JSON.stringify(await get('/openapi.json'));
    expect(document).toContain('when the warning before a breach goes to whoever holds the ticket');
    expect(document).toContain('when that warning went out (once per run of the clock)');
  });
});
