import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { count } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { webhookSubscriptions } from '../../db/schema';
import type { WebhookTargetPolicy } from '../../domain/webhook-target';
import { postWebhook } from '../../notify/webhook';
import {
  AddressNotAllowedError,
  createWebhookDispatcher,
  type HostResolver,
} from '../../notify/webhook-dispatcher';
import { createOwnDatabase, runRelayFor } from '../support/relay';
import { startApi, type ApiStack } from '../support/stack';
import { createOwnNamespace, runWorkerFor } from '../support/temporal';

/**
 * Webhook SSRF: subscriptions to internal targets are refused when written (422), and the relay
 * refuses to connect to an internal address a public-looking name resolves to (DNS rebinding). The
 * receiver listens on 127.0.0.1 and must never see a request while loopback is not allowed. Its own
 * database and namespace: the relay here runs without WEBHOOK_ALLOW_LOOPBACK and with a resolver
 * standing in for DNS, which must not meet other test files' subscriptions.
 */
const tag = `${process.pid}-${randomInt(1e9)}`;
const ADMIN = `ssrf-admin-${tag}`;
const AGENT = `ssrf-agent-${tag}`;
/** A name that passes the URL rule; the test's DNS resolves it to loopback. */
const REBOUND_NAME = 'hooks.customer.example';
const NO_LOOPBACK: WebhookTargetPolicy = { allowLoopback: false, requireHttps: false };
const LOOPBACK: WebhookTargetPolicy = { allowLoopback: true, requireHttps: false };

let receiver: Server;
let port: number;
let requestsSeen = 0;
let stack: ApiStack;
let stopWorker: () => Promise<void>;
let stopRelay: () => Promise<void>;

/** DNS as an attacker who controls a name could answer: a public address and a loopback one. */
const rebindingResolver: HostResolver = (hostname, options, callback) => {
  if (hostname === REBOUND_NAME) {
    callback(null, [
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
  } else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
};
/** The same name resolving to loopback alone: what a development receiver looks like. */
const loopbackResolver: HostResolver = (_hostname, _options, callback) =>
  callback(null, [{ address: '127.0.0.1', family: 4 }]);

beforeAll(async () => {
  receiver = createServer((incoming, response) => {
    requestsSeen += 1;
    incoming.resume();
    response.writeHead(204).end();
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  port = (receiver.address() as AddressInfo).port;
  const [databaseUrl, namespace] = await Promise.all([createOwnDatabase('ssrf'), createOwnNamespace('ssrf')]);
  stack = await startApi({
    taskQueue: `ssrf-${tag}`,
    policy: { firstResponse: '1h' },
    env: {
      DATABASE_URL: databaseUrl,
      TEMPORAL_NAMESPACE: namespace,
      API_KEYS: `${ADMIN}:admin:ops-1,${AGENT}:agent:agent-7`,
      WEBHOOK_ALLOW_LOOPBACK: 'false',
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  stopRelay = await runRelayFor(stack.config, stack.database.db, rebindingResolver);
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

const subscriptionCount = async () =>
  (await stack.database.db.select({ n: count() }).from(webhookSubscriptions))[0]?.n;

const webhook = (url: string) => ({
  url,
  secret: `secret-${tag}-0123456789`,
  deliveryId: `ssrf-${randomInt(1e9)}`,
  eventType: 'note',
  body: '{}',
});

describe('subscribing an internal target', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'is a link-local address'],
    ['http://[::ffff:127.0.0.1]:7233/', 'is a loopback address'],
    ['http://0x7f000001/', '127.0.0.1 is a loopback address'],
    ['http://2130706433:5432/', '127.0.0.1 is a loopback address'],
    ['http://10.0.0.7/hooks', 'is a private address'],
    ['http://[fd00::1]/', 'is a unique local'],
    ['http://100.64.0.9/', 'is a carrier-grade NAT address'],
    ['http://localhost:7233/', 'localhost is a loopback name'],
    ['http://metadata.google.internal/', 'is an internal name'],
  ])('%s is a 422 naming the reason, and writes nothing', async (url, reason) => {
    const before = await subscriptionCount();
    const response = await call('POST', '/v1/webhooks', {
      url,
      eventTypes: ['note'],
      secret: `secret-${tag}-0123456789`,
    });
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ title: 'Webhook URL not allowed' });
    expect(response.json().detail).toContain(`body.url: `);
    expect(response.json().detail).toContain(reason);
    expect(await subscriptionCount()).toBe(before);
  });

  it('changing a subscription to an internal URL is refused the same way, and changes nothing', async () => {
    const created = await call('POST', '/v1/webhooks', {
      url: 'https://hooks.example.com/aftercare',
      eventTypes: ['note'],
      secret: `secret-${tag}-0123456789`,
      active: false,
    });
    expect(created.statusCode).toBe(201);
    const changed = await call('POST', `/v1/webhooks/${created.json().id}`, { url: 'http://192.168.1.1/' });
    expect(changed.statusCode).toBe(422);
    expect(changed.json().detail).toMatch(/^body\.url: 192\.168\.1\.1 is a private address/);
    const [stored] = (await call('GET', '/v1/webhooks')).json().items;
    expect(stored.url).toBe('https://hooks.example.com/aftercare');
  });
});

describe('connecting', () => {
  it('refuses a name that resolves to loopback, at connect time, with a coarse error', async () => {
    const seenBefore = requestsSeen;
    const dispatcher = createWebhookDispatcher(NO_LOOPBACK, rebindingResolver);
    try {
      await expect(
        postWebhook(webhook(`http://${REBOUND_NAME}:${port}/hook`), {
          dispatcher,
          policy: NO_LOOPBACK,
          timeoutMs: 5_000,
        }),
      ).rejects.toThrow(/^refused: address not allowed$/);
    } finally {
      await dispatcher.close();
    }
    expect(requestsSeen).toBe(seenBefore);
  });

  it('checks what the system resolver answers for localhost, and IP literals, on the socket itself', async () => {
    const seenBefore = requestsSeen;
    const dispatcher = createWebhookDispatcher(NO_LOOPBACK);
    try {
      for (const url of [
        `http://localhost:${port}/`,
        `http://127.0.0.1:${port}/`,
        `http://[::ffff:127.0.0.1]:${port}/`,
      ]) {
        await expect(request(url, { method: 'POST', dispatcher })).rejects.toBeInstanceOf(
          AddressNotAllowedError,
        );
      }
    } finally {
      await dispatcher.close();
    }
    expect(requestsSeen).toBe(seenBefore);
  });

  it('delivers to loopback when WEBHOOK_ALLOW_LOOPBACK allows it', async () => {
    const seenBefore = requestsSeen;
    const dispatcher = createWebhookDispatcher(LOOPBACK, loopbackResolver);
    try {
      const transport = { dispatcher, policy: LOOPBACK, timeoutMs: 5_000 };
      expect(await postWebhook(webhook(`http://${REBOUND_NAME}:${port}/hook`), transport)).toBe(204);
      expect(await postWebhook(webhook(`http://127.0.0.1:${port}/hook`), transport)).toBe(204);
    } finally {
      await dispatcher.close();
    }
    expect(requestsSeen).toBe(seenBefore + 2);
  });

  it('reports failures in coarse classes, never the socket’s wording', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const dispatcher = createWebhookDispatcher(LOOPBACK);
    const transport = { dispatcher, policy: LOOPBACK, timeoutMs: 5_000 };
    try {
      // Nothing listens: ECONNREFUSED, reported without its code.
      await expect(postWebhook(webhook(`http://127.0.0.1:${closedPort}/`), transport)).rejects.toThrow(
        /^could not connect$/,
      );
      // https to a plain-http receiver: a TLS handshake failure.
      await expect(postWebhook(webhook(`https://127.0.0.1:${port}/`), transport)).rejects.toThrow(
        /^TLS error$/,
      );
      // Plain http where https is required (a subscription written before production).
      const production = { ...transport, policy: { allowLoopback: false, requireHttps: true } };
      await expect(postWebhook(webhook(`http://${REBOUND_NAME}/`), production)).rejects.toThrow(
        /^refused: https required$/,
      );
    } finally {
      await dispatcher.close();
    }
  });
});

describe('the relay', () => {
  it('refuses a subscribed name that resolves to loopback: one final attempt, nothing sent, no address shown', async () => {
    const seenBefore = requestsSeen;
    const subscribed = await call('POST', '/v1/webhooks', {
      url: `http://${REBOUND_NAME}:${port}/hook`,
      eventTypes: ['note'],
      secret: `secret-${tag}-0123456789`,
    });
    expect(subscribed.statusCode).toBe(201);
    const subscription = subscribed.json().id as string;
    const created = await call('POST', '/v1/tickets', {
      channel: 'web',
      category: 'fault',
      priority: 'normal',
      customer: { name: '孙七', phone: `135${randomInt(10_000_000, 99_999_999)}` },
      product: { model: `SSRF-${tag}`, serialNumber: `SN-${randomInt(1e9)}` },
      description: 'Makes a clicking noise',
    });
    expect(created.statusCode).toBe(201);
    const noted = await call('POST', `/v1/tickets/${created.json().number}/note`, { text: 'called' }, AGENT);
    expect(noted.statusCode).toBe(200);

    const deliveries = await vi.waitFor(
      async () => {
        const response = await call('GET', `/v1/webhooks/${subscription}/deliveries`);
        const items = response.json().items;
        expect(items[0]?.status).toBe('failed');
        return response;
      },
      { timeout: 20_000, interval: 250 },
    );
    const [delivery] = deliveries.json().items;
    expect(delivery).toMatchObject({ attempts: 1, lastError: 'refused: address not allowed' });
    expect(delivery.attemptLog).toMatchObject([
      { ok: false, statusCode: null, error: 'refused: address not allowed' },
    ]);
    expect(deliveries.body).not.toMatch(/127\.0\.0\.1|93\.184|ECONN|getaddrinfo/);
    // Final: no retry follows (the first would be due 1 s later).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await call('GET', `/v1/webhooks/${subscription}/deliveries`)).json().items[0].attempts).toBe(1);
    expect(requestsSeen).toBe(seenBefore);
    await call('POST', `/v1/webhooks/${subscription}`, { active: false });
  });
});
