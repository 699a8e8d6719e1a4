import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionName } from '../../domain/lifecycle';
import { startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * Seed 004 (若远程无法解决,需明确告知客户“需转为上门服务”,并重新预约时间,避免客户重复描述问题): a
 * remote service that fails becomes an on-site visit on the same ticket, through the API on the real
 * stack — no new ticket, the same engineer, the on-site clocks, a timeline event.
 */
const taskQueue = `remote-onsite-${process.pid}`;
const tag = `${process.pid}-${randomInt(1e9)}`;
const LINE = `router-${tag}`;
const REGION = `pudong-${tag}`;
const ENGINEER = `onsite-e1-${tag}`;
const KEYS = {
  admin: `onsite-admin-${tag}`,
  agent: `onsite-agent-${tag}`,
  engineer: `onsite-engineer-${tag}`,
};
type Who = keyof typeof KEYS;
let stack: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({
    taskQueue,
    policy: {},
    env: {
      API_KEYS: `${KEYS.admin}:admin:ops-1,${KEYS.agent}:agent:agent-7,${KEYS.engineer}:engineer:${ENGINEER}`,
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  const created = await call('admin', 'POST', '/v1/engineers', {
    id: ENGINEER,
    name: 'Engineer Li',
    skills: [LINE],
    regions: [REGION],
    capacity: 10,
  });
  expect([200, 201]).toContain(created.statusCode);
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

function call(who: Who, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
  return stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${KEYS[who]}` } });
}

async function act(who: Who, number: string, action: ActionName, payload: Record<string, unknown> = {}) {
  const response = await call(who, 'POST', `/v1/tickets/${number}/${action}`, payload);
  expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
  return response.json();
}

/** A ticket the engineer accepted (assigned by hand, no automatic dispatch). */
async function acceptedTicket(): Promise<string> {
  const created = await call('agent', 'POST', '/v1/tickets', {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    serviceType: 'remote_support',
    customer: { name: '孙七', phone: `139${randomInt(10_000_000, 99_999_999)}`, region: REGION },
    product: { model: 'AX-3000', line: LINE, serialNumber: `SN-${randomInt(1e9)}` },
    description: 'No internet after the update',
  });
  expect(created.statusCode).toBe(201);
  const number: string = created.json().number;
  await act('agent', number, 'acknowledge');
  await act('admin', number, 'plan', {
    measures: 'Guide a reset by video',
    department: 'field-service',
    customerConfirmed: true,
    dispatch: false,
  });
  await act('admin', number, 'assign', { engineerId: ENGINEER });
  await act('engineer', number, 'accept');
  return number;
}

describe('POST /v1/tickets/{number}/go-onsite', () => {
  it('turns a failed remote service into an on-site visit on the same ticket, with the on-site clocks', async () => {
    const number = await acceptedTicket();
    await act('engineer', number, 'start', { mode: 'remote' });
    const converted = await act('engineer', number, 'go-onsite', { reason: 'The reset did not help' });
    expect(converted).toMatchObject({ number, status: 'accepted', assignee: ENGINEER, appointment: null });
    expect(converted.sla.customerContact).toMatchObject({ duration: '30m', metAt: null, breached: false });
    expect(converted.allowedActions).toContain('schedule');

    const slotStart = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const booked = await act('engineer', number, 'schedule', { slotStart });
    expect(booked.sla.customerContact.metAt).not.toBeNull();
    expect(booked.sla.appointmentReminder.dueAt).toBe(
      new Date(Date.parse(slotStart) - 3_600_000).toISOString(),
    );
    const remote = await call('engineer', 'POST', `/v1/tickets/${number}/start`, { mode: 'remote' });
    expect(remote.statusCode).toBe(409);
    expect(remote.json().detail).toContain('converted to an on-site visit: start it onsite');
    expect((await act('engineer', number, 'start', { mode: 'onsite' })).status).toBe('in_service');

    const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    expect(events.map((event: { type: string }) => event.type)).toEqual(
      expect.arrayContaining(['service_started', 'converted_onsite', 'scheduled']),
    );
    expect(events.find((event: { type: string }) => event.type === 'converted_onsite')).toMatchObject({
      data: { reason: 'The reset did not help', engineerId: ENGINEER },
    });
    // No new ticket: the customer's file holds this one only.
    const file = await call('admin', 'GET', `/v1/customers/${converted.customerId}/tickets`);
    expect(file.json().items.map((ticket: { number: string }) => ticket.number)).toEqual([number]);
  });

  it('is 409 with allowedActions for a service that started on site', async () => {
    const number = await acceptedTicket();
    await act('engineer', number, 'start', { mode: 'onsite' });
    const refused = await call('engineer', 'POST', `/v1/tickets/${number}/go-onsite`, { reason: 'x' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      currentStatus: 'in_service',
      detail:
        'cannot go-onsite this in_service ticket: only a service that started remotely converts to an on-site visit',
    });
    expect(refused.json().allowedActions).toContain('resolve');
    expect(refused.json().allowedActions).not.toContain('go-onsite');
  });
});
