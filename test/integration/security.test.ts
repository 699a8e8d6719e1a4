import { Writable } from 'node:stream';
import { randomInt } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { REDACTED_PATHS } from '../../logger';
import { ADMIN_KEY, startApi, untilNotShedding, type ApiStack } from '../support/stack';

/**
 * Security at the edges: no route answers without a valid key, and nothing secret or personal
 * reaches the logs — the API keys, webhook secrets, payload keys, customer names, phones, e-mails,
 * addresses and locations.
 */
let stack: ApiStack;
let app: Awaited<ReturnType<typeof buildApp>>;
const logLines: string[] = [];
const WEBHOOK_SECRET = `whsec-never-logged-${randomInt(1e9)}`;
const PHONE = `139${randomInt(10_000_000, 99_999_999)}`;

beforeAll(async () => {
  stack = await startApi({ taskQueue: `security-${process.pid}`, policy: {} });
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  // The same API with a logger at trace level whose output the test reads.
  app = await buildApp({
    config: stack.config,
    db: stack.database.db,
    temporal: stack.temporal,
    logger: pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, logStream),
  });
  await untilNotShedding(app);
});

afterAll(async () => {
  await app?.close();
  await stack?.close();
});

/** Every documented /v1 route, with a concrete URL. */
async function documentedRoutes(): Promise<{ method: string; url: string }[]> {
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(document.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => ({
        method: method.toUpperCase(),
        url: path
          .replace('{number}', 'WO20261124-001')
          .replace('{id}', '00000000-0000-4000-8000-000000000000'),
      })),
    );
}

describe('authentication on every route', () => {
  it('answers 401 without a key and with a wrong one, on every /v1 route', async () => {
    const routes = await documentedRoutes();
    expect(routes.length).toBeGreaterThan(30);
    for (const { method, url } of routes) {
      for (const headers of [
        {},
        { authorization: 'Bearer not-a-key' },
        { authorization: `Basic ${ADMIN_KEY}` },
      ]) {
        const response = await app.inject({
          method: method as 'GET',
          url,
          headers,
          payload: method === 'POST' ? {} : undefined,
        });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
        expect(response.headers['content-type']).toContain('application/problem+json');
      }
    }
  });
});

describe('logs', () => {
  it('carry no key, secret or personal data, even at trace level', async () => {
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: auth,
      payload: {
        channel: 'phone',
        category: 'fault',
        priority: 'normal',
        customer: {
          name: '欧阳娜娜',
          phone: PHONE,
          email: 'ouyang.nana@example.com',
          address: '北京市朝阳区建国路88号',
          location: { latitude: 39.9087, longitude: 116.4605 },
        },
        description: 'Dryer stopped mid-cycle',
      },
    });
    expect(created.statusCode).toBe(201);
    const hooked = await app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: auth,
      payload: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['closed'], secret: WEBHOOK_SECRET },
    });
    expect(hooked.statusCode).toBe(201);
    await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${hooked.json().id}`,
      headers: auth,
      payload: { active: false },
    });
    // A refused request with the secret in it, and one with personal data in a bad body.
    await app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: auth,
      payload: { secret: WEBHOOK_SECRET },
    });
    await app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: auth,
      payload: { customer: { phone: PHONE } },
    });
    const log = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(5);
    for (const secret of [
      ADMIN_KEY,
      WEBHOOK_SECRET,
      PHONE,
      '欧阳娜娜',
      'ouyang.nana@example.com',
      '建国路88号',
      '39.9087',
      ...stack.config.payloadKeys.map((key) => key.key.toString('base64')),
      stack.config.customerIdSecret,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});
