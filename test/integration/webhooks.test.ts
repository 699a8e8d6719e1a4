import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER } from '../../notify/webhook';
import { startApi, type ApiStack } from '../support/stack';
import { runRelayFor } from '../support/relay';
import { runWorkerFor } from '../support/temporal';

/**
 * Webhooks end to end: a local receiver (the only mocked edge) that verifies every signature, fails
 * at least the first three attempts of each delivery, and must still see each event exactly once.
 */
const tag = `${process.pid}-${randomInt(1e9)}`;
const SECRET = `whsec-${tag}-0123456789`;
const ADMIN = `webhooks-admin-${tag}`;
const AGENT = `webhooks-agent-${tag}`;
let stack: ApiStack;
let stopWorker: () => Promise<void>;
let stopRelay: () => Promise<void>;
let receiver: Server;
let receiverUrl: string;

interface Received {
  deliveryId: string;
  event: string;
  signatureValid: boolean;
  status: number;
  body: { type: string; ticket: { number: string }; event: { seq: number } };
}
const received: Received[] = [];
const attemptsPerDelivery = new Map<string, number>();
let mode: 'flaky' | 'hang' = 'flaky';
/**
 * While closed, the receiver refuses every attempt: no delivery can succeed, so a ticket action that
 * answers while it is closed did not wait on its deliveries (had it waited, it would answer 503 after
 * ACTION_TIMEOUT_SECONDS). Open, it refuses the first three attempts of a delivery and accepts the rest.
 */
let open = true;

function verify(header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', SECRET).update(`${match[1]}.${body}`).digest();
  const fresh = Math.abs(Date.now() / 1000 - Number(match[1])) < 300;
  return fresh && timingSafeEqual(expected, Buffer.from(match[2] ?? '', 'hex'));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  receiver = createServer(async (request, response) => {
    const body = await readBody(request);
    const deliveryId = String(request.headers[DELIVERY_HEADER]);
    const attempt = (attemptsPerDelivery.get(deliveryId) ?? 0) + 1;
    attemptsPerDelivery.set(deliveryId, attempt);
    if (mode === 'hang') return; // never answers: the sender must time out, not wait forever
    const status = open && attempt > 3 ? 200 : 503;
    received.push({
      deliveryId,
      event: String(request.headers[EVENT_HEADER]),
      signatureValid: verify(request.headers[SIGNATURE_HEADER] as string | undefined, body),
      status,
      body: JSON.parse(body),
    });
    response.writeHead(status).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  stack = await startApi({
    taskQueue: `webhooks-${tag}`,
    policy: { firstResponse: '1h' },
    env: { API_KEYS: `${ADMIN}:admin:ops-1,${AGENT}:agent:agent-7` },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  stopRelay = await runRelayFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopRelay?.();
  await stopWorker?.();
  await stack?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

const call = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>, key = ADMIN) =>
  stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

async function createTicket(): Promise<string> {
  const response = await call('POST', '/v1/tickets', {
    channel: 'web',
    category: 'fault',
    priority: 'normal',
    customer: { name: '王五', phone: `137${randomInt(10_000_000, 99_999_999)}` },
    product: { model: `WH-${tag}`, serialNumber: `SN-${randomInt(1e9)}` },
    description: 'Leaks water',
  });
  expect(response.statusCode).toBe(201);
  return response.json().number;
}

describe('webhooks', () => {
  it('delivers each subscribed event once, signed, after failed attempts (three at least)', async () => {
    const subscribed = await call('POST', '/v1/webhooks', {
      url: receiverUrl,
      eventTypes: ['acknowledged', 'note'],
      secret: SECRET,
    });
    expect(subscribed.statusCode).toBe(201);
    expect(subscribed.json()).not.toHaveProperty('secret');
    const subscription = subscribed.json().id as string;

    const number = await createTicket();
    // The receiver is failing, and refuses everything until the ticket has answered: the ticket's
    // actions answer without waiting on their deliveries, however long either takes.
    open = false;
    const acknowledged = await call('POST', `/v1/tickets/${number}/acknowledge`, {}, AGENT);
    expect(acknowledged.statusCode).toBe(200);
    const noted = await call('POST', `/v1/tickets/${number}/note`, { text: 'Customer sent photos' }, AGENT);
    expect(noted.statusCode).toBe(200);
    open = true;

    const successes = await vi.waitFor(
      () => {
        const ok = received.filter((entry) => entry.status === 200 && entry.body.ticket.number === number);
        expect(ok).toHaveLength(2);
        return ok;
      },
      { timeout: 30_000, interval: 250 },
    );
    expect(successes.map((entry) => entry.event).sort()).toEqual(['acknowledged', 'note']);
    const mine = received.filter((entry) => entry.body.ticket.number === number);
    expect(mine.every((entry) => entry.signatureValid)).toBe(true);
    // Per delivery: refused attempts (three at least: more if the ticket took longer to answer than
    // the retries' backoff), then one accepted, and nothing after it.
    const attempts = new Map<string, number>();
    for (const entry of successes) {
      expect(entry.deliveryId).toBe(`wh:${subscription}:${number}:${entry.body.event.seq}`);
      const statuses = mine
        .filter((other) => other.deliveryId === entry.deliveryId)
        .map((other) => other.status);
      expect(statuses.length).toBeGreaterThanOrEqual(4);
      expect(statuses).toEqual([...Array<number>(statuses.length - 1).fill(503), 200]);
      expect(attemptsPerDelivery.get(entry.deliveryId)).toBe(statuses.length);
      attempts.set(entry.deliveryId, statuses.length);
    }
    expect(mine).toHaveLength([...attempts.values()].reduce((sum, n) => sum + n, 0));

    await vi.waitFor(async () => {
      const log = (await call('GET', `/v1/webhooks/${subscription}/deliveries`)).json().items;
      const ticketDeliveries = log.filter((item: { ticketNumber: string }) => item.ticketNumber === number);
      expect(ticketDeliveries).toHaveLength(2);
      for (const item of ticketDeliveries) {
        const n = attempts.get(item.id);
        expect(n).toBeDefined();
        expect(item).toMatchObject({ status: 'delivered', attempts: n });
        expect(item.attemptLog.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([
          ...Array<number>((n ?? 0) - 1).fill(503),
          200,
        ]);
      }
    });
    // Unsubscribed event types (created, the notification) were not sent.
    expect(new Set(mine.map((entry) => entry.event))).toEqual(new Set(['acknowledged', 'note']));
    // Subscriptions are global: stop this one before other test files' tickets reach it.
    expect((await call('POST', `/v1/webhooks/${subscription}`, { active: false })).json().active).toBe(false);
  });

  it('a receiver that hangs times out and is retried, without holding up the ticket', async () => {
    mode = 'hang';
    const subscribed = await call('POST', '/v1/webhooks', {
      url: receiverUrl,
      eventTypes: ['acknowledged'],
      secret: SECRET,
    });
    const subscription = subscribed.json().id as string;
    const number = await createTicket();
    // The receiver never answers, so the delivery cannot succeed: a ticket that waited on it would
    // answer 503 after ACTION_TIMEOUT_SECONDS, not 200.
    expect((await call('POST', `/v1/tickets/${number}/acknowledge`, {}, AGENT)).statusCode).toBe(200);
    const timedOut = await vi.waitFor(
      async () => {
        const log = (await call('GET', `/v1/webhooks/${subscription}/deliveries`)).json().items;
        const attempt = log
          .flatMap((item: { attemptLog: { error: string | null }[] }) => item.attemptLog)
          .find((entry: { error: string | null }) => entry.error !== null);
        expect(attempt).toBeDefined();
        return attempt;
      },
      { timeout: 20_000, interval: 500 },
    );
    expect(timedOut.error).toBe('no answer within 10 s');
    await call('POST', `/v1/webhooks/${subscription}`, { active: false });
    mode = 'flaky';
  });

  it('refuses bad subscriptions with a clear 400 and checks the role', async () => {
    const bad = await call('POST', '/v1/webhooks', {
      url: 'ftp://example.com',
      eventTypes: [],
      secret: 'short',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/body\.url: must be an http or https URL/);
    expect(bad.json().detail).toMatch(/body\.eventTypes/);
    expect(bad.json().detail).toMatch(/body\.secret: must be at least 16 characters/);
    const forbidden = await call('GET', '/v1/webhooks', undefined, AGENT);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().detail).toBe('role agent may not manage webhooks');
    const unknown = await call('GET', '/v1/webhooks/00000000-0000-4000-8000-000000000000/deliveries');
    expect(unknown.statusCode).toBe(404);
  });
});
