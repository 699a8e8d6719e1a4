import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RECIPIENT_PURPOSE } from '../../db/delivery-store';
import { DELIVERY_HEADER } from '../../notify/webhook';
import { createOwnDatabase, runRelayFor } from '../support/relay';
import { startApi, type ApiStack } from '../support/stack';
import { createOwnNamespace, runWorkerFor } from '../support/temporal';

/**
 * The delivery relay against receivers that misbehave, on a database and a Temporal namespace of
 * their own (its relay pauses subscriptions after 3 failures over 2 s, which must not reach other
 * test files' subscriptions).
 * Receivers are local HTTP servers, the only mocked edge; tickets, workflows and escalations are real.
 */
const tag = `${process.pid}-${randomInt(1e9)}`;
const ADMIN = `relay-admin-${tag}`;
const AGENT = `relay-agent-${tag}`;
const FIRST_RESPONSE_MS = 3_000;
const MAX_SUBSCRIPTIONS = 5;
let stack: ApiStack;
let stopWorker: () => Promise<void>;
let stopRelay: () => Promise<void>;

type Behaviour = 'ok' | 'hang' | number;

/** A receiver whose answer the test sets; it counts the attempts it saw per delivery. */
interface Receiver {
  url: string;
  behaviour: Behaviour;
  attempts: Map<string, number>;
  /** Requests it holds without answering. */
  hanging: number;
  server: Server;
}

const receivers: Receiver[] = [];

async function startReceiver(behaviour: Behaviour): Promise<Receiver> {
  const receiver = { behaviour, attempts: new Map<string, number>(), hanging: 0 } as Receiver;
  receiver.server = createServer((request, response) => {
    const deliveryId = String(request.headers[DELIVERY_HEADER]);
    receiver.attempts.set(deliveryId, (receiver.attempts.get(deliveryId) ?? 0) + 1);
    request.resume();
    if (receiver.behaviour === 'hang') {
      receiver.hanging += 1;
      request.socket.once('close', () => (receiver.hanging -= 1));
      return;
    }
    response.writeHead(receiver.behaviour === 'ok' ? 204 : receiver.behaviour).end();
  });
  receiver.server.listen(0, '127.0.0.1');
  await once(receiver.server, 'listening');
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`;
  receivers.push(receiver);
  return receiver;
}

beforeAll(async () => {
  const [databaseUrl, namespace] = await Promise.all([
    createOwnDatabase('relay'),
    createOwnNamespace('relay'),
  ]);
  stack = await startApi({
    taskQueue: `relay-${tag}`,
    policy: { firstResponse: `${FIRST_RESPONSE_MS / 1000}s`, escalationStep: '1h' },
    env: {
      DATABASE_URL: databaseUrl,
      TEMPORAL_NAMESPACE: namespace,
      API_KEYS: `${ADMIN}:admin:ops-1,${AGENT}:agent:agent-7`,
      WEBHOOK_PAUSE_AFTER_FAILURES: '3',
      WEBHOOK_PAUSE_AFTER: '2s',
      WEBHOOK_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  stopRelay = await runRelayFor(stack.config, stack.database.db);
});

afterAll(async () => {
  for (const receiver of receivers) receiver.server.closeAllConnections();
  await stopRelay?.();
  await stopWorker?.();
  await stack?.close();
  await Promise.all(receivers.map((receiver) => new Promise((done) => receiver.server.close(done))));
});

const call = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>, key = ADMIN) =>
  stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

async function subscribe(url: string, eventTypes = ['note']): Promise<string> {
  const response = await call('POST', '/v1/webhooks', {
    url,
    eventTypes,
    secret: `secret-${tag}-0123456789`,
  });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

const pause = async (id: string) =>
  expect((await call('POST', `/v1/webhooks/${id}`, { active: false })).statusCode).toBe(200);

async function createTicket(): Promise<{ number: string; firstResponseDueAt: string }> {
  const response = await call('POST', '/v1/tickets', {
    channel: 'web',
    category: 'fault',
    priority: 'normal',
    customer: { name: '赵六', phone: `136${randomInt(10_000_000, 99_999_999)}` },
    product: { model: `RL-${tag}`, serialNumber: `SN-${randomInt(1e9)}` },
    description: 'Makes a grinding noise',
  });
  expect(response.statusCode).toBe(201);
  return { number: response.json().number, firstResponseDueAt: response.json().sla.firstResponse.dueAt };
}

async function note(number: string, text = 'called the customer'): Promise<number> {
  const startedAt = performance.now();
  const response = await call('POST', `/v1/tickets/${number}/note`, { text }, AGENT);
  expect(response.statusCode).toBe(200);
  return performance.now() - startedAt;
}

async function deliveriesOf(subscription: string) {
  const response = await call('GET', `/v1/webhooks/${subscription}/deliveries`);
  return response.json().items as {
    id: string;
    status: string;
    attempts: number;
    lastError: string | null;
  }[];
}

describe('receivers that fail', () => {
  it('a 4xx other than 408 or 429 is final: one attempt, recorded as failed', async () => {
    const receiver = await startReceiver(404);
    const subscription = await subscribe(receiver.url);
    const { number } = await createTicket();
    await note(number);
    const [delivery] = await vi.waitFor(
      async () => {
        const items = await deliveriesOf(subscription);
        expect(items[0]?.status).toBe('failed');
        return items;
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(delivery).toMatchObject({ attempts: 1, lastError: 'the receiver answered HTTP 404 (final)' });
    // Long past the first retry's time (1 s): nothing more was sent.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect([...receiver.attempts.values()]).toEqual([1]);
    await pause(subscription);
  });

  // Two failures: this file's relay pauses a subscription at the third (over 2 s).
  it('429 and 5xx are retried with backoff until the receiver accepts', async () => {
    const receiver = await startReceiver(429);
    const subscription = await subscribe(receiver.url);
    const { number } = await createTicket();
    await note(number);
    await vi.waitFor(() => expect([...receiver.attempts.values()][0]).toBe(1), {
      timeout: 10_000,
      interval: 100,
    });
    receiver.behaviour = 503;
    await vi.waitFor(() => expect([...receiver.attempts.values()][0]).toBe(2), {
      timeout: 10_000,
      interval: 100,
    });
    receiver.behaviour = 'ok';
    const [delivery] = await vi.waitFor(
      async () => {
        const items = await deliveriesOf(subscription);
        expect(items[0]?.status).toBe('delivered');
        return items;
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(delivery?.attempts).toBe(3);
    await pause(subscription);
  });

  it('a success clears the failure count; a success on a healthy subscription does not write its row', async () => {
    const receiver = await startReceiver(503);
    const subscription = await subscribe(receiver.url);
    const view = async () =>
      (await call('GET', '/v1/webhooks'))
        .json()
        .items.find((item: { id: string }) => item.id === subscription) as {
        consecutiveFailures: number;
        failingSince: string | null;
      };
    const rowVersion = async () =>
      (
        await stack.database.db.execute<{ xmin: string }>(
          sql`select xmin::text as xmin from webhook_subscriptions where id = ${subscription}`,
        )
      )[0]?.xmin;
    const { number } = await createTicket();
    await note(number, 'first');
    await vi.waitFor(async () => expect((await view()).consecutiveFailures).toBe(1), {
      timeout: 10_000,
      interval: 100,
    });
    receiver.behaviour = 'ok';
    await vi.waitFor(
      async () => expect(await view()).toMatchObject({ consecutiveFailures: 0, failingSince: null }),
      { timeout: 10_000, interval: 100 },
    );
    const healthy = await rowVersion();
    await note(number, 'second');
    await vi.waitFor(
      async () =>
        expect((await deliveriesOf(subscription)).map((delivery) => delivery.status)).toEqual([
          'delivered',
          'delivered',
        ]),
      { timeout: 10_000, interval: 100 },
    );
    expect(await rowVersion()).toBe(healthy);
    await pause(subscription);
  });

  it('pausing a subscription stops its pending retries at once; resuming sends what it held', async () => {
    const receiver = await startReceiver(503);
    const subscription = await subscribe(receiver.url);
    const { number } = await createTicket();
    await note(number);
    await vi.waitFor(() => expect(receiver.attempts.size).toBe(1), { timeout: 10_000, interval: 100 });
    await pause(subscription);
    const attemptsWhenPaused = [...receiver.attempts.values()][0] ?? 0;
    // Retries were due 1 s and 2 s after the first: none is sent while paused.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect([...receiver.attempts.values()][0]).toBe(attemptsWhenPaused);
    expect((await deliveriesOf(subscription))[0]?.status).toBe('pending');

    receiver.behaviour = 'ok';
    const resumed = await call('POST', `/v1/webhooks/${subscription}`, { active: true });
    expect(resumed.json()).toMatchObject({ active: true, consecutiveFailures: 0, failingSince: null });
    await vi.waitFor(async () => expect((await deliveriesOf(subscription))[0]?.status).toBe('delivered'), {
      timeout: 5_000,
      interval: 100,
    });
    await pause(subscription);
  });

  it('a receiver that keeps failing gets its subscription paused, and managers are told once', async () => {
    const receiver = await startReceiver(500);
    const subscription = await subscribe(receiver.url);
    const { number } = await createTicket();
    for (let index = 0; index < 3; index += 1) await note(number, `note ${index}`);
    const paused = await vi.waitFor(
      async () => {
        const view = (await call('GET', '/v1/webhooks'))
          .json()
          .items.find((item: { id: string }) => item.id === subscription);
        expect(view.active).toBe(false);
        return view;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(paused.pausedAt).not.toBeNull();
    expect(paused.consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect(paused.pauseReason).toMatch(/^\d+ failed attempts in a row since /);
    const notices = await vi.waitFor(
      async () => {
        const rows = await stack.database.db.execute<{
          recipient: string;
          subject: string;
          body: string;
        }>(sql`
          select o.recipient, o.subject, o.body from outbox_messages o
          join deliveries d on d.id = o.delivery_id
          where d.kind = 'notice' and d.subscription_id = ${subscription}`);
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 5_000, interval: 100 },
    );
    const host = new URL(receiver.url).host;
    expect(notices[0]).toMatchObject({ subject: `Webhook 订阅已暂停（${host}）` });
    expect(stack.database.db.$cipher.open(notices[0]?.recipient ?? '', RECIPIENT_PURPOSE)).toBe(
      'role:manager',
    );
    expect(notices[0]?.body).toContain(subscription);
    // Paused: its receiver hears nothing more.
    const attemptsWhenPaused = [...receiver.attempts.values()].reduce((sum, value) => sum + value, 0);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect([...receiver.attempts.values()].reduce((sum, value) => sum + value, 0)).toBe(attemptsWhenPaused);
  });

  it(`caps active subscriptions at WEBHOOK_MAX_SUBSCRIPTIONS (${MAX_SUBSCRIPTIONS}); paused ones do not count`, async () => {
    const receiver = await startReceiver('ok');
    const active = (await call('GET', '/v1/webhooks'))
      .json()
      .items.filter((item: { active: boolean }) => item.active);
    const created: string[] = [];
    for (let index = active.length; index < MAX_SUBSCRIPTIONS; index += 1)
      created.push(await subscribe(receiver.url));
    const refused = await call('POST', '/v1/webhooks', {
      url: receiver.url,
      eventTypes: ['note'],
      secret: `secret-${tag}-0123456789`,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toBe(
      `at most ${MAX_SUBSCRIPTIONS} subscriptions may be active; pause one (active: false) before adding another`,
    );
    const paused = created[0] ?? '';
    await pause(paused);
    const replacement = await subscribe(receiver.url);
    expect((await call('POST', `/v1/webhooks/${paused}`, { active: true })).statusCode).toBe(409);
    for (const id of [...created.slice(1), replacement]) await pause(id);
  });
});

describe('isolation', () => {
  it('with three hanging receivers holding every delivery, escalations fire on time and actions answer within 1 s', async () => {
    const hanging = await Promise.all([startReceiver('hang'), startReceiver('hang'), startReceiver('hang')]);
    const subscriptions: string[] = [];
    for (const receiver of hanging) subscriptions.push(await subscribe(receiver.url, ['*']));
    const tickets: { number: string; firstResponseDueAt: string }[] = [];
    for (let index = 0; index < 12; index += 1) tickets.push(await createTicket());
    // Every receiver holds as many sends as its subscription may have in flight (8 each by default).
    const slots = stack.config.delivery.perSubscription;
    await vi.waitFor(
      () => expect(hanging.map((receiver) => receiver.hanging)).toEqual([slots, slots, slots]),
      {
        timeout: 5_000,
        interval: 100,
      },
    );
    const noteAnswers: number[] = [];
    for (const ticket of tickets.slice(0, 4)) noteAnswers.push(await note(ticket.number));
    expect(Math.max(...noteAnswers)).toBeLessThan(1_000);

    const lateness = await vi.waitFor(
      async () => {
        const late: number[] = [];
        for (const ticket of tickets) {
          const [escalation] = (await call('GET', `/v1/escalations?ticket=${ticket.number}`)).json().items;
          expect(escalation).toBeDefined();
          late.push(Date.parse(escalation.recordedAt) - Date.parse(ticket.firstResponseDueAt));
        }
        return late;
      },
      { timeout: FIRST_RESPONSE_MS + 10_000, interval: 250 },
    );
    expect(Math.max(...lateness)).toBeLessThan(1_000);
    // Their notices to the supervisor went out too, in the lane the webhooks cannot fill.
    for (const ticket of tickets) {
      await vi.waitFor(
        async () => {
          const items = (await call('GET', `/v1/tickets/${ticket.number}/notifications`)).json().items;
          const escalation = items.find((item: { kind: string }) => item.kind === 'escalation');
          expect(escalation?.status).toBe('delivered');
        },
        { timeout: 2_000, interval: 100 },
      );
    }
    for (const id of subscriptions) await pause(id);
  });
});
