import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserveEngineer } from '../../db/engineer-store';
import { saveTicketChange } from '../../db/ticket-store';
import { openTicket, recordOpening } from '../../domain/lifecycle';
import { AGENT, intake, policy, TEST_CUSTOMER_ID, uniqueTicketNumber } from '../support/fixtures';
import { ADMIN_KEY, AGENT_KEY, startApi, type ApiStack } from '../support/stack';

/** `/v1/engineers`, `/v1/escalations` and the dispatch reservation, against the real PostgreSQL. */
const tag = `${process.pid}-${randomInt(1e9)}`;
let stack: ApiStack;

beforeAll(async () => {
  stack = await startApi({ taskQueue: `engineers-${tag}`, policy: {} });
});

afterAll(async () => {
  await stack?.close();
});

const call = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>, key = ADMIN_KEY) =>
  stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

/** A ticket row for the reservation to point at, as the API writes it on create. */
async function ticketRow(): Promise<string> {
  const ticket = openTicket({
    number: uniqueTicketNumber(),
    intake: intake(),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: Date.now(),
    policy: policy(),
  });
  await saveTicketChange(stack.database.db, ticket, recordOpening(ticket));
  return ticket.number;
}

describe('engineers', () => {
  it('creates (201), replaces (200), reads and lists with filters', async () => {
    const id = `eng-${tag}`;
    const body = { id, name: '王工', skills: [`washer-${tag}`], regions: ['minhang'] };
    const created = await call('POST', '/v1/engineers', body);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id, capacity: 3, active: true, openLoad: 0, location: null });
    const replaced = await call('POST', '/v1/engineers', {
      ...body,
      capacity: 5,
      location: { latitude: 31.1, longitude: 121.4 },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ capacity: 5, location: { latitude: 31.1, longitude: 121.4 } });
    expect((await call('GET', `/v1/engineers/${id}`)).json().name).toBe('王工');
    const listed = (await call('GET', `/v1/engineers?skill=washer-${tag}&active=true`)).json().items;
    expect(listed.map((engineer: { id: string }) => engineer.id)).toEqual([id]);
    expect((await call('GET', `/v1/engineers?skill=washer-${tag}&region=elsewhere`)).json().items).toEqual(
      [],
    );
  });

  it('answers a clear 4xx to bad input and unknown engineers, and checks the role', async () => {
    const bad = await call('POST', '/v1/engineers', { id: 'Bad Id!', name: 'x', skills: [] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/body\.id: must be 1–64 characters/);
    expect(bad.json().detail).toMatch(/body\.skills/);
    const unknown = await call('GET', '/v1/engineers/nobody-here');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toBe('no engineer nobody-here');
    const forbidden = await call('POST', '/v1/engineers', { id: 'x', name: 'x', skills: ['x'] }, AGENT_KEY);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().detail).toBe('role agent may not manage engineers');
  });
});

describe('dispatch reservation', () => {
  it('gives 20 tickets dispatched at once exactly the 6 places two engineers of capacity 3 have', async () => {
    const line = `dryer-${tag}`;
    for (const id of ['a', 'b']) {
      await call('POST', '/v1/engineers', { id: `${id}-${tag}`, name: id, skills: [line], regions: [] });
    }
    const numbers = await Promise.all(Array.from({ length: 20 }, () => ticketRow()));
    const chosen = await Promise.all(
      numbers.map((ticketNumber) =>
        reserveEngineer(stack.database.db, {
          ticketNumber,
          attempt: 1,
          needs: { productLine: line },
          exclude: [],
          assignedAt: new Date().toISOString(),
        }),
      ),
    );
    const assigned = chosen.filter((id): id is string => id !== null);
    expect(assigned).toHaveLength(6);
    expect(assigned.filter((id) => id === `a-${tag}`)).toHaveLength(3);
    expect((await call('GET', `/v1/engineers/b-${tag}`)).json().openLoad).toBe(3);

    // The same attempt retried (an activity that crashed after committing) gets the same answer.
    const index = chosen.findIndex((id) => id !== null);
    const again = await reserveEngineer(stack.database.db, {
      ticketNumber: numbers[index] ?? '',
      attempt: 1,
      needs: { productLine: line },
      exclude: [],
      assignedAt: new Date().toISOString(),
    });
    expect(again).toBe(chosen[index]);
  });
});

describe('escalations listing', () => {
  it('refuses a cursor it did not issue and a bad filter, naming them', async () => {
    const cursor = await call('GET', '/v1/escalations?cursor=not-a-cursor');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().detail).toBe('querystring.cursor: is not a cursor this API returned');
    const level = await call('GET', '/v1/escalations?level=4');
    expect(level.statusCode).toBe(400);
    expect(level.json().detail).toMatch(/querystring\.level/);
  });
});
