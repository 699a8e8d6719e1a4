import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, AGENT_KEY, startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * The customer file (`GET /v1/customers/{customerId}/tickets`, seed 004) on the real stack: tickets
 * opened through the API by a client and an agent, one of them assigned to an engineer.
 */
const suffix = `${process.pid}-${randomInt(1e6)}`;
const KEYS = {
  admin: ADMIN_KEY,
  agent: AGENT_KEY,
  client: `file-client-${suffix}`,
  client2: `file-client2-${suffix}`,
  engineer: `file-engineer-${suffix}`,
  otherEngineer: `file-engineer2-${suffix}`,
  parts: `file-parts-${suffix}`,
} as const;
type Caller = keyof typeof KEYS;
const ENGINEER = `eng-file-${suffix}`;
const OTHER_ENGINEER = `eng-file2-${suffix}`;

let stack: ApiStack;
let stopWorker: () => Promise<void>;
const phoneX = `136${randomInt(10_000_000, 99_999_999)}`;
const phoneY = `137${randomInt(10_000_000, 99_999_999)}`;
let customerX: string;
let customerY: string;
/** Customer X's tickets, oldest first: by the client, by the agent, by the agent (assigned). */
const ofX: string[] = [];

const call = (who: Caller, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
  stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${KEYS[who]}` } });

async function open(who: Caller, phone: string) {
  const response = await call(who, 'POST', '/v1/tickets', {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    customer: { name: '王五', phone },
    product: { model: 'KFR-FILE', serialNumber: `SN-${suffix}` },
    description: 'Not cooling',
  });
  expect(response.statusCode).toBe(201);
  return response.json() as { number: string; customerId: string };
}

async function act(number: string, action: string, payload: Record<string, unknown>) {
  const response = await call('admin', 'POST', `/v1/tickets/${number}/${action}`, payload);
  expect(response.statusCode, response.body).toBe(200);
}

const file = (who: Caller, customerId: string, query = '') =>
  call(who, 'GET', `/v1/customers/${customerId}/tickets${query}`);
const numbers = (body: { items: { number: string }[] }) => body.items.map((ticket) => ticket.number);

beforeAll(async () => {
  stack = await startApi({
    taskQueue: `customer-file-${process.pid}`,
    policy: {},
    env: {
      API_KEYS: [
        `${KEYS.admin}:admin:ops-1`,
        `${KEYS.agent}:agent:agent-7`,
        `${KEYS.client}:client:client-file-1`,
        `${KEYS.client2}:client:client-file-2`,
        `${KEYS.engineer}:engineer:${ENGINEER}`,
        `${KEYS.otherEngineer}:engineer:${OTHER_ENGINEER}`,
        `${KEYS.parts}:parts:parts-1`,
      ].join(','),
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  for (const id of [ENGINEER, OTHER_ENGINEER]) {
    const engineer = await call('admin', 'POST', '/v1/engineers', {
      id,
      name: id,
      skills: ['ac'],
      regions: [],
    });
    expect(engineer.statusCode).toBe(201);
  }
  const first = await open('client', phoneX);
  customerX = first.customerId;
  ofX.push(first.number, (await open('agent', phoneX)).number, (await open('agent', phoneX)).number);
  customerY = (await open('agent', phoneY)).customerId;
  const held = ofX[2] ?? '';
  await act(held, 'acknowledge', {});
  await act(held, 'plan', {
    measures: 'Visit',
    department: 'service',
    customerConfirmed: true,
    dispatch: false,
  });
  await act(held, 'assign', { engineerId: ENGINEER });
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

describe('the customer file', () => {
  it('gives an agent every ticket of the customer, newest first, paged like the ticket list', async () => {
    const response = await file('agent', customerX);
    expect(response.statusCode).toBe(200);
    expect(numbers(response.json())).toEqual([...ofX].reverse());
    expect(response.json().items[0].customer.name).toBe('王五');
    const page1 = (await file('agent', customerX, '?limit=2')).json();
    expect(numbers(page1)).toEqual([ofX[2], ofX[1]]);
    const page2 = (await file('agent', customerX, `?limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2).toMatchObject({ nextCursor: null });
    expect(numbers(page2)).toEqual([ofX[0]]);
    expect(numbers((await file('agent', customerY)).json())).toHaveLength(1);
  });

  it('shows a client only the tickets it opened itself', async () => {
    expect(numbers((await file('client', customerX)).json())).toEqual([ofX[0]]);
    const other = await file('client2', customerX);
    expect(other.statusCode).toBe(200);
    expect(numbers(other.json())).toEqual([]);
  });

  it('masks the customer for a role that may not see personal data (parts)', async () => {
    const items = (await file('parts', customerX)).json().items as { customer: { name: string } }[];
    expect(items).toHaveLength(3);
    expect(items.map((ticket) => ticket.customer.name)).toEqual(['王*', '王*', '王*']);
  });

  it('lets an engineer read the whole history only of a customer whose open ticket it holds', async () => {
    expect(numbers((await file('engineer', customerX)).json())).toEqual([...ofX].reverse());
    for (const [who, customerId] of [
      ['otherEngineer', customerX],
      ['engineer', customerY],
    ] as const) {
      const refused = await file(who, customerId);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().detail).toBe(
        "an engineer reads a customer's file only while it holds one of the customer's open tickets",
      );
    }
  });

  it.each([
    ['/v1/customers/13612345678/tickets', 'params.customerId: must be a customer id'],
    [`/v1/customers/c_${'0'.repeat(32)}/tickets?limit=0`, 'querystring.limit'],
    [`/v1/customers/c_${'0'.repeat(32)}/tickets?cursor=nope`, 'querystring.cursor'],
    [`/v1/customers/c_${'0'.repeat(32)}/tickets?status=new`, 'status'],
  ])('refuses %s with a 400 naming the field', async (url, detail) => {
    const response = await call('agent', 'GET', url);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().detail).toContain(detail);
  });

  it('closes the file to the engineer once its ticket is cancelled', async () => {
    await act(ofX[2] ?? '', 'cancel', { reason: 'Customer fixed it' });
    expect((await file('engineer', customerX)).statusCode).toBe(403);
  });
});
