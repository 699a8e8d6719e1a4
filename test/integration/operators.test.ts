import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { buildApp } from '../../api/app';
import { customerIdOf } from '../../api/customer-id';
import { loadConfig } from '../../config';
import { workflowIdOf } from '../../domain/ticket';
import { ADMIN_KEY, AGENT_KEY, startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * What an operator sees in Temporal: current search attributes, no personal data in clear text in
 * any history, and decrypted payloads only through the codec endpoint with an operator's key.
 */
const execFileAsync = promisify(execFile);
const taskQueue = `operators-${process.pid}`;
const UI_ORIGIN = 'http://localhost:8233';
let stack: ApiStack;
let apiUrl: string;
let stopWorker: () => Promise<void>;

const customer = { name: `欧阳${randomInt(1000, 9999)}`, phone: `139${randomInt(10_000_000, 99_999_999)}` };
let ticketNumber: string;

beforeAll(async () => {
  stack = await startApi({ taskQueue, policy: { firstResponse: '2s' } });
  apiUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  const created = await stack.app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    payload: {
      channel: 'wechat',
      category: 'complaint',
      priority: 'urgent',
      customer: { ...customer, email: 'ouyang@example.com', address: '上海市浦东新区世纪大道 100 号' },
      description: 'The repaired fridge stopped again',
    },
  });
  ticketNumber = created.json().number;
  await vi.waitFor(
    async () => {
      const ticket = await stack.app.inject({
        method: 'GET',
        url: `/v1/tickets/${ticketNumber}`,
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(ticket.json().escalationLevel).toBe(1);
    },
    { timeout: 15_000, interval: 200 },
  );
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

/** `temporal workflow show --detailed`, as an operator runs it: payloads shown decoded where it can. */
async function showHistory(...extra: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    inject('temporalCliPath'),
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowIdOf(ticketNumber),
      '--detailed',
      '--address',
      inject('temporalAddress'),
      ...extra,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

describe('search attributes in Temporal', () => {
  it('are kept current: the escalated ticket is found by status, level, priority and customer hash', async () => {
    const customerId = customerIdOf(customer.phone, stack.config.customerIdSecret);
    const query =
      `TicketStatus="new" AND EscalationLevel=1 AND SlaBreached=true AND TicketPriority="urgent" ` +
      `AND TicketCategory="complaint" AND CustomerId="${customerId}"`;
    await vi.waitFor(
      async () => {
        const found: string[] = [];
        for await (const workflow of stack.temporal.workflow.list({ query })) found.push(workflow.workflowId);
        expect(found).toEqual([workflowIdOf(ticketNumber)]);
      },
      { timeout: 15_000, interval: 500 },
    );
  });

  it('carry no personal data: CustomerId is a hash, not the phone', async () => {
    const description = await stack.temporal.workflow.getHandle(workflowIdOf(ticketNumber)).describe();
    const attributes = JSON.stringify(description.typedSearchAttributes.getAll());
    expect(attributes).not.toContain(customer.phone);
    expect(attributes).not.toContain(customer.name);
    expect(await description.staticSummary()).toBe(`${ticketNumber} · complaint · urgent`);
  });
});

describe('personal data in Temporal history', () => {
  it('`temporal workflow show` has no customer name, phone, e-mail or address in clear', async () => {
    const history = await showHistory();
    expect(history).toContain(`encoding: ${Buffer.from('binary/encrypted').toString('base64')}`);
    for (const secret of [customer.name, customer.phone, 'ouyang@example.com', '世纪大道']) {
      expect(history).not.toContain(secret);
      expect(history).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });

  it('shows them decrypted through the codec endpoint with an operator key', async () => {
    const history = await showHistory(
      '--codec-endpoint',
      `${apiUrl}/codec`,
      '--codec-auth',
      `Bearer ${ADMIN_KEY}`,
    );
    expect(history).toContain(`input[0].ticket.intake.customer.name: ${customer.name}`);
    expect(history).toContain(`input[0].ticket.intake.customer.phone: ${customer.phone}`);
  });

  it('keeps the summary, the timer names and the activity names readable without the codec', async () => {
    const history = await showHistory('--output', 'json');
    const text = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');
    const summaries = [...history.matchAll(/"summary": \{[^}]*\},\s*"data": "([^"]+)"/g)].map((match) =>
      text(match[1]!),
    );
    expect(summaries).toEqual(
      expect.arrayContaining([
        JSON.stringify(`${ticketNumber} · complaint · urgent`),
        JSON.stringify('first-response SLA 2s'),
        JSON.stringify('record created'),
      ]),
    );
  });
});

describe('the codec endpoint', () => {
  async function startedPayloads() {
    const raw = new Client({
      connection: stack.temporal.connection,
      namespace: stack.config.temporal.namespace,
    });
    const history = await raw.workflow.getHandle(workflowIdOf(ticketNumber)).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    return payloads.map((payload) => ({
      metadata: Object.fromEntries(
        Object.entries(payload.metadata ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value).toString('base64'),
        ]),
      ),
      data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
    }));
  }

  const decode = (headers: Record<string, string>, payloads: unknown) =>
    stack.app.inject({ method: 'POST', url: '/codec/decode', headers, payload: { payloads } });

  it('gives encrypted payloads back still sealed without a key, or for a role that may not see personal data', async () => {
    const payloads = await startedPayloads();
    const attempts: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${AGENT_KEY}` },
      { authorization: 'Bearer wrong-key' },
    ];
    for (const headers of attempts) {
      const answer = await decode(headers, payloads);
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toEqual({ payloads });
    }
    const encode = await stack.app.inject({ method: 'POST', url: '/codec/encode', payload: { payloads } });
    expect(encode.statusCode).toBe(401);
    expect(encode.json().detail).toMatch(/codec\/login/);
  });

  it('decodes for an operator who signed in with the cookie, as the UI sends it', async () => {
    const session = await stack.app.inject({
      method: 'POST',
      url: '/codec/session',
      payload: { key: ADMIN_KEY },
    });
    expect(session.statusCode).toBe(204);
    const cookie = String(session.headers['set-cookie']).split(';')[0]!;
    expect(String(session.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Lax/);
    const decoded = await decode({ cookie }, await startedPayloads());
    expect(decoded.statusCode).toBe(200);
    const data = Buffer.from(decoded.json().payloads[0].data, 'base64').toString('utf8');
    expect(data).toContain(customer.name);
    expect(
      (await stack.app.inject({ method: 'POST', url: '/codec/session', payload: { key: 'wrong' } }))
        .statusCode,
    ).toBe(401);
  });

  it('answers the UI origin’s CORS preflight with credentials allowed', async () => {
    const preflight = await stack.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    const foreign = await stack.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('after a key rotation, tickets sealed under the old key still decode', async () => {
    const oldKey = stack.config.payloadKeys[0]!;
    const newKey = `k2027:${Buffer.alloc(32, 9).toString('base64')}`;
    const rotatedConfig = loadConfig({
      DATABASE_URL: inject('databaseUrl'),
      API_KEYS: `${ADMIN_KEY}:admin:ops-1`,
      PAYLOAD_ENCRYPTION_KEYS: `${newKey},${oldKey.id}:${oldKey.key.toString('base64')}`,
    });
    const rotated = await buildApp({
      config: rotatedConfig,
      db: stack.database.db,
      temporal: stack.temporal,
      logger: pino({ level: 'silent' }),
    });
    const decoded = await rotated.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { payloads: await startedPayloads() },
    });
    expect(Buffer.from(decoded.json().payloads[0].data, 'base64').toString('utf8')).toContain(customer.phone);
    const encoded = await rotated.inject({
      method: 'POST',
      url: '/codec/encode',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: {
        payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: 'e30=' }],
      },
    });
    expect(Buffer.from(encoded.json().payloads[0].metadata['encryption-key-id'], 'base64').toString()).toBe(
      'k2027',
    );
    await rotated.close();
  });
});
