import { and, count, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTION_NAMES } from '../../domain/lifecycle';
import { escalations, idempotencyKeys, ticketEvents, tickets } from '../../db/schema';
import { satisfiedCallback, serviceRecord, unhappyCallback } from '../support/fixtures';
import { ADMIN_KEY, AGENT_KEY, startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * The API as a client uses it, over HTTP (inject), against real PostgreSQL, a real Temporal dev
 * server and the real worker, with a short SLA policy file.
 */
const taskQueue = `http-api-${process.pid}`;
let stack: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({
    taskQueue,
    policy: { firstResponse: '3s', callback: '30s', complaintFollowUp: '2s', qcSampleRate: 0 },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

const auth = { authorization: `Bearer ${ADMIN_KEY}` };

const validBody = {
  channel: 'phone',
  category: 'fault',
  priority: 'normal',
  serviceType: 'repair',
  customer: { name: '张三', phone: '13812345678', email: 'z@example.com', tier: 'vip' },
  product: {
    // This file's own model: the row counts below see only this file's tickets, not the other files'.
    model: `KFR-35GW/HTTP-${process.pid}`,
    serialNumber: 'SN0001',
    purchaseDate: '2026-03-15',
    purchaseChannel: 'online',
  },
  description: 'No cooling; outdoor fan does not turn',
  mood: 'anxious',
  attachments: [],
  externalRef: 'crm-4711',
};

/** The valid body with a product of its own: the same serial again within 90 days is a repeat fault. */
const freshBody = () => ({
  ...validBody,
  product: { ...validBody.product, serialNumber: `SN-${Math.random().toString(36).slice(2)}` },
});

async function createTicket(
  body: Record<string, unknown> = freshBody(),
  headers: Record<string, string> = {},
) {
  return stack.app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: { ...auth, ...headers },
    payload: body,
  });
}

async function act(number: string, action: string, payload?: Record<string, unknown>) {
  return stack.app.inject({ method: 'POST', url: `/v1/tickets/${number}/${action}`, headers: auth, payload });
}

async function getTicket(number: string) {
  return (await stack.app.inject({ method: 'GET', url: `/v1/tickets/${number}`, headers: auth })).json();
}

async function eventTypes(number: string): Promise<string[]> {
  const response = await stack.app.inject({
    method: 'GET',
    url: `/v1/tickets/${number}/events`,
    headers: auth,
  });
  return response.json().events.map((event: { type: string }) => event.type);
}

/**
 * What a create could write: this file's tickets and Idempotency-Keys (other test files write
 * concurrently, and every ticket's events hang off its row).
 */
async function rowCounts() {
  const { db } = stack.database;
  const [[t], [k]] = await Promise.all([
    db.select({ n: count() }).from(tickets).where(eq(tickets.productModel, validBody.product.model)),
    db.select({ n: count() }).from(idempotencyKeys).where(like(idempotencyKeys.key, 'idem-%')),
  ]);
  return { tickets: t?.n, keys: k?.n };
}

/** What an action on one ticket could write. */
async function ticketRows(number: string) {
  const { db } = stack.database;
  const [[e], [x]] = await Promise.all([
    db.select({ n: count() }).from(ticketEvents).where(eq(ticketEvents.ticketNumber, number)),
    db.select({ n: count() }).from(escalations).where(eq(escalations.ticketNumber, number)),
  ]);
  return { events: e?.n, escalations: x?.n, version: (await getTicket(number)).version };
}

describe('creating a ticket over HTTP', () => {
  it('answers 201 with its number, status and running first-response clock', async () => {
    const response = await createTicket();
    expect(response.statusCode).toBe(201);
    const ticket = response.json();
    expect(ticket.number).toMatch(/^WO\d{8}-\d{3,}$/);
    expect(response.headers.location).toBe(`/v1/tickets/${ticket.number}`);
    expect(ticket).toMatchObject({
      status: 'new',
      category: 'fault',
      priority: 'normal',
      escalationLevel: 0,
      assignee: null,
      warranty: { status: 'in_warranty', expiresOn: '2027-03-15' },
      allowedActions: ['acknowledge', 'classify', 'cancel', 'note'],
    });
    expect(Date.parse(ticket.sla.firstResponse.dueAt) - Date.parse(ticket.createdAt)).toBe(3_000);
    expect(ticket.sla.firstResponse).toMatchObject({ metAt: null, breached: false, duration: '3s' });
  });

  it('numbers tickets by business day without gaps or repeats under concurrency', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => createTicket()));
    const numbers = responses.map((response) => response.json().number as string);
    expect(new Set(numbers).size).toBe(10);
    const serialOf = (number: string) => Number(number.split('-')[1]);
    const serials = numbers.map(serialOf).sort((a, b) => a - b);
    // Other files open tickets in the same database meanwhile: the day's numbers between the first
    // and the last of these ten are all taken, each once, whoever took them.
    const day = numbers[0]!.split('-')[0]!;
    const taken = await stack.database.db
      .select({ number: tickets.number })
      .from(tickets)
      .where(like(tickets.number, `${day}-%`));
    const inRange = taken
      .map((row) => serialOf(row.number))
      .filter((n) => n >= serials[0]! && n <= serials.at(-1)!);
    expect(inRange.sort((a, b) => a - b)).toEqual(
      Array.from({ length: serials.at(-1)! - serials[0]! + 1 }, (_, i) => serials[0]! + i),
    );
  });

  it('an unacknowledged ticket escalates to the supervisor shortly after its deadline, once', async () => {
    const ticket = (await createTicket()).json();
    const escalated = await vi.waitFor(
      async () => {
        const current = await getTicket(ticket.number);
        expect(current.escalationLevel).toBe(1);
        return current;
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(escalated.sla.firstResponse.breached).toBe(true);
    const [row] = await stack.database.db
      .select()
      .from(escalations)
      .where(eq(escalations.ticketNumber, ticket.number));
    const lateness = Date.parse(row!.firedAt) - Date.parse(row!.missedDeadline);
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await eventTypes(ticket.number)).filter((type) => type === 'escalated')).toEqual(['escalated']);
  });

  it('honours Idempotency-Key: a repeat returns the same ticket, a different body is 422', async () => {
    const key = `idem-${Date.now()}`;
    const first = await createTicket(validBody, { 'idempotency-key': key });
    const again = await createTicket(validBody, { 'idempotency-key': key });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().number).toBe(first.json().number);
    const before = await rowCounts();
    const different = await createTicket(
      { ...validBody, description: 'Something else' },
      { 'idempotency-key': key },
    );
    expect(different.statusCode).toBe(422);
    expect(different.json().detail).toContain(key);
    expect(await rowCounts()).toEqual(before);
  });

  it('concurrent repeats with one Idempotency-Key make exactly one ticket', async () => {
    const key = `idem-concurrent-${Date.now()}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => createTicket(validBody, { 'idempotency-key': key })),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((response) => response.json().number)).size).toBe(1);
  });
});

describe('driving a ticket through its lifecycle', () => {
  it('acknowledge → resolve → 2-star callback → the missed 1-hour follow-up escalates to the manager', async () => {
    const { number } = (await createTicket()).json();
    const acknowledged = await act(number, 'acknowledge');
    expect(acknowledged.statusCode).toBe(200);
    expect(acknowledged.json()).toMatchObject({
      status: 'acknowledged',
      allowedActions: ['classify', 'plan', 'resolve', 'hold', 'cancel', 'note'],
    });
    expect(acknowledged.json().sla.firstResponse.metAt).not.toBeNull();

    const resolved = await act(number, 'resolve', serviceRecord);
    expect(resolved.json()).toMatchObject({ status: 'resolved' });
    expect(resolved.json().sla.callback.duration).toBe('30s');

    const complaint = await act(number, 'callback', unhappyCallback);
    expect(complaint.json()).toMatchObject({ status: 'follow_up' });

    await vi.waitFor(async () => expect((await getTicket(number)).escalationLevel).toBe(2), {
      timeout: 15_000,
      interval: 200,
    });
    expect(await eventTypes(number)).toEqual([
      'created',
      'acknowledged',
      'notification',
      'resolved',
      // The customer's progress SMS: resolved (seed 003).
      'notification',
      'callback_due',
      'callback_recorded',
      'complaint_opened',
      'notification',
      'escalated',
      'notification',
    ]);
  });

  it('a recorded follow-up and a satisfied callback close the ticket', async () => {
    const { number } = (await createTicket()).json();
    await act(number, 'acknowledge', { note: 'Called the customer' });
    await act(number, 'resolve', serviceRecord);
    await act(number, 'callback', unhappyCallback);
    const followedUp = await act(number, 'follow-up', {
      contactMade: true,
      cause: 'Engineer arrived late',
      improvementPlan: 'Senior engineer revisits tomorrow',
    });
    expect(followedUp.json()).toMatchObject({ status: 'resolved' });
    const closed = await act(number, 'callback', satisfiedCallback);
    expect(closed.statusCode).toBe(200);
    // It was a complaint (the unhappy callback): its handling cost may still be recorded.
    expect(closed.json()).toMatchObject({
      status: 'closed',
      allowedActions: ['record-handling-cost', 'reopen', 'note'],
    });
  });

  it('many actions at once on one ticket are each applied once, none answered 5xx', async () => {
    // Seen before the fix: the server handed some Updates back unprocessed (500s), and the
    // timeline lost 5 to 7 of the 40 notes and doubled as many, while the workflow held all 40.
    const number = (await createTicket()).json().number as string;
    const texts = Array.from({ length: 40 }, (_, index) => `call ${index}`);
    const answers = await Promise.all(texts.map((text) => act(number, 'note', { text })));
    expect(answers.map((answer) => answer.statusCode)).toEqual(texts.map(() => 200));
    const notes = await stack.database.db
      .select({ data: ticketEvents.data })
      .from(ticketEvents)
      .where(and(eq(ticketEvents.ticketNumber, number), eq(ticketEvents.type, 'note')))
      .then((rows) => rows.map((row) => (row.data as { text?: string }).text));
    expect(notes.sort()).toEqual([...texts].sort());
  });
});

describe('bad input gets a clear 4xx and writes nothing', () => {
  it.each([
    [
      'missing required fields',
      { channel: 'phone' },
      400,
      /body\.category.*body\.priority.*body\.customer.*body\.description/,
    ],
    [
      'a wrong enum value',
      { ...validBody, priority: 'asap' },
      400,
      /body\.priority: Invalid option: expected one of "normal"\|"urgent"\|"critical"/,
    ],
    [
      'a bad phone number',
      { ...validBody, customer: { name: '张三', phone: 'call me' } },
      400,
      /body\.customer\.phone: must be a phone number/,
    ],
    ['an unknown field', { ...validBody, colour: 'red' }, 400, /Unrecognized key: "colour"/],
    [
      'a bad purchase date',
      { ...validBody, product: { model: 'X', purchaseDate: '2026-02-30' } },
      400,
      /body\.product\.purchaseDate/,
    ],
    [
      'a javascript: attachment',
      { ...validBody, attachments: ['javascript:alert(document.cookie)'] },
      400,
      /body\.attachments\.0: must be an http or https URL/,
    ],
    [
      'a data: attachment after a good one',
      {
        ...validBody,
        attachments: ['https://files.example.com/1.jpg', 'data:text/html,<script>alert(1)</script>'],
      },
      400,
      /body\.attachments\.1: must be an http or https URL/,
    ],
  ])('%s', async (_, body, status, detail) => {
    const before = await rowCounts();
    const response = await createTicket(body);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().detail).toMatch(detail);
    expect(await rowCounts()).toEqual(before);
  });

  it('malformed JSON', async () => {
    const before = await rowCounts();
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"channel": "phone",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ status: 400, detail: expect.stringMatching(/not valid JSON/) });
    expect(await rowCounts()).toEqual(before);
  });

  it('a __proto__ key is refused with a detail that names it, not as invalid JSON', async () => {
    const before = await rowCounts();
    for (const [url, payload] of [
      ['/v1/tickets', '{"channel":"phone","__proto__":{"admin":true}}'],
      ['/codec/decode', '{"payloads":[{"metadata":{"__proto__":"eA=="},"data":""}]}'],
    ]) {
      const response = await stack.app.inject({
        method: 'POST',
        url,
        headers: { ...auth, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().detail).toBe(
        'body: a key named "__proto__", or "constructor" holding "prototype", is not accepted',
      );
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('a body that is not JSON', async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(response.statusCode).toBe(415);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('an unknown ticket is 404, for reads and actions', async () => {
    expect(
      (await stack.app.inject({ method: 'GET', url: '/v1/tickets/WO20000101-999', headers: auth }))
        .statusCode,
    ).toBe(404);
    const response = await act('WO20000101-999', 'acknowledge');
    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toBe('no ticket WO20000101-999');
  });

  it('acknowledging a closed ticket is 409 and changes nothing', async () => {
    const { number } = (await createTicket()).json();
    await act(number, 'acknowledge');
    await act(number, 'resolve', serviceRecord);
    const closed = await act(number, 'callback', satisfiedCallback);
    expect(closed.json().status).toBe('closed');
    const before = await ticketRows(number);
    const response = await act(number, 'acknowledge');
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      title: 'Illegal transition',
      detail: 'cannot acknowledge a ticket that is closed; allowed now: reopen, note',
      currentStatus: 'closed',
      allowedActions: ['reopen', 'note'],
    });
    expect(await ticketRows(number)).toEqual(before);
    expect((await getTicket(number)).version).toBe(closed.json().version);
  });

  it('an action out of order is 409 and names what is allowed', async () => {
    const { number } = (await createTicket()).json();
    const response = await act(number, 'callback', satisfiedCallback);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      currentStatus: 'new',
      allowedActions: ['acknowledge', 'classify', 'cancel', 'note'],
    });
    expect(await eventTypes(number)).toEqual(['created']);
  });

  it('an action with a bad body is 400 and names the field', async () => {
    const { number } = (await createTicket()).json();
    await act(number, 'acknowledge');
    const response = await act(number, 'resolve', { ...serviceRecord, diagnosis: '' });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/^body\.diagnosis: /);
    expect((await getTicket(number)).status).toBe('acknowledged');
  });

  it('an action may omit its body, but JSON null is a 400 (Schemathesis found it accepted)', async () => {
    const { number } = (await createTicket()).json();
    const refused = await stack.app.inject({
      method: 'POST',
      url: `/v1/tickets/${number}/acknowledge`,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: 'null',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toMatch(/^body/);
    expect(await eventTypes(number)).toEqual(['created']);
    const omitted = await stack.app.inject({
      method: 'POST',
      url: `/v1/tickets/${number}/acknowledge`,
      headers: auth,
    });
    expect(omitted.statusCode).toBe(200);
  });

  it('no key or a wrong key is 401', async () => {
    const none = await stack.app.inject({ method: 'GET', url: '/v1/tickets/WO20000101-001' });
    expect(none.statusCode).toBe(401);
    expect(none.json().detail).toMatch(/Authorization: Bearer/);
    const wrong = await stack.app.inject({
      method: 'GET',
      url: '/v1/tickets/WO20000101-001',
      headers: { authorization: 'Bearer not-a-key' },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('records who acted from the key, not from the body', async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: { authorization: `Bearer ${AGENT_KEY}` },
      payload: validBody,
    });
    const events = await stack.app.inject({
      method: 'GET',
      url: `/v1/tickets/${response.json().number}/events`,
      headers: auth,
    });
    expect(events.json().events[0]).toMatchObject({
      type: 'created',
      actorId: 'agent-7',
      actorRole: 'agent',
    });
  });
});

describe('a ticket’s events and notifications, page by page', () => {
  const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: auth });

  /** Every page of a sub-resource, following nextCursor. */
  async function allPages(url: string, key: 'events' | 'items', limit: number) {
    const pages: { seq?: number; id?: string }[][] = [];
    let cursor: string | null = null;
    do {
      const response = await get(`${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode).toBe(200);
      pages.push(response.json()[key]);
      cursor = response.json().nextCursor;
    } while (cursor && pages.length < 50);
    return pages;
  }

  it('one page holds everything by default; limit and cursor walk it without gaps or repeats', async () => {
    // Critical: the supervisor is told (internal); acknowledged: the customer is told (SMS).
    const number = (await createTicket({ ...freshBody(), priority: 'critical' })).json().number as string;
    expect((await act(number, 'acknowledge')).statusCode).toBe(200);
    for (const text of ['first call', 'second call', 'third call']) {
      expect((await act(number, 'note', { text })).statusCode).toBe(200);
    }
    const events = await get(`/v1/tickets/${number}/events`);
    expect(events.json().nextCursor).toBeNull();
    const seqs = events.json().events.map((event: { seq: number }) => event.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(5);
    const eventPages = await allPages(`/v1/tickets/${number}/events`, 'events', 2);
    expect(eventPages.map((page) => page.length)).toEqual(
      Array.from({ length: Math.ceil(seqs.length / 2) }, (_, index) => Math.min(2, seqs.length - index * 2)),
    );
    expect(eventPages.flat().map((event) => event.seq)).toEqual(seqs);

    const notifications = await get(`/v1/tickets/${number}/notifications`);
    expect(notifications.json().nextCursor).toBeNull();
    const ids = notifications.json().items.map((item: { id: string }) => item.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const notificationPages = await allPages(`/v1/tickets/${number}/notifications`, 'items', 1);
    expect(notificationPages).toHaveLength(ids.length);
    expect(notificationPages.flat().map((item) => item.id)).toEqual(ids);
  });

  it('a bad limit or cursor is a 400 naming it', async () => {
    const number = (await createTicket()).json().number as string;
    for (const resource of ['events', 'notifications']) {
      const tooMany = await get(`/v1/tickets/${number}/${resource}?limit=501`);
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().detail).toMatch(/querystring\.limit/);
      const forged = await get(
        `/v1/tickets/${number}/${resource}?cursor=${Buffer.from('{"x":1}').toString('base64url')}`,
      );
      expect(forged.statusCode).toBe(400);
      expect(forged.json().detail).toBe('querystring.cursor: is not a cursor this API returned');
    }
  });

  it('an empty or fractional number in a query is a 400, not 0 (Schemathesis found ?escalationLevel= listed level 0)', async () => {
    for (const [query, field] of [
      ['escalationLevel=', 'escalationLevel'],
      ['escalationLevel=%20', 'escalationLevel'],
      ['limit=', 'limit'],
      ['limit=2.5', 'limit'],
    ]) {
      const response = await get(`/v1/tickets?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().detail).toBe(`querystring.${field}: must be an integer`);
    }
    expect((await get('/v1/tickets?escalationLevel=0&limit=1')).statusCode).toBe(200);
  });
});

describe('operations endpoints', () => {
  it('healthz and readyz answer while PostgreSQL and Temporal are reachable', async () => {
    expect((await stack.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await stack.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('serves the OpenAPI document with every route', async () => {
    const document = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/tickets',
        '/v1/tickets/{number}',
        '/v1/tickets/{number}/events',
        ...ACTION_NAMES.map((action) => `/v1/tickets/{number}/${action}`),
        '/healthz',
        '/readyz',
      ]),
    );
    expect((await stack.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });
});
