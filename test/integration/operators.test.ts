import { execFile } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { buildApp } from '../../api/app';
import { customerIdOf } from '../../api/customer-id';
import { loadConfig } from '../../config';
import { workflowIdOf } from '../../domain/ticket';
import { ADMIN_KEY, AGENT_KEY, startApi, untilNotShedding, type ApiStack } from '../support/stack';
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
        // An urgent ticket's opening also notifies the supervisor.
        JSON.stringify('record created, notification'),
      ]),
    );
  });
});

/** The ticket's start input as its history holds it (sealed), in the codec protocol's JSON. */
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

/** Signs in as the login page does; returns the cookie as the browser sends it back. */
async function signIn(): Promise<string> {
  const session = await stack.app.inject({
    method: 'POST',
    url: '/codec/session',
    payload: { key: ADMIN_KEY },
  });
  expect(session.statusCode).toBe(204);
  return String(session.headers['set-cookie']).split(';')[0]!;
}

describe('the codec endpoint', () => {
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
    const cookie = await signIn();
    const decoded = await decode({ cookie, origin: UI_ORIGIN }, await startedPayloads());
    expect(decoded.statusCode).toBe(200);
    const data = Buffer.from(decoded.json().payloads[0].data, 'base64').toString('utf8');
    expect(data).toContain(customer.name);
    expect(
      (await stack.app.inject({ method: 'POST', url: '/codec/session', payload: { key: 'wrong' } }))
        .statusCode,
    ).toBe(401);
  });

  it('answers 422, not 500, to an encrypted payload too short for its IV and 16-byte tag', async () => {
    const [sealed] = await startedPayloads();
    const short = {
      ...sealed!,
      data: Buffer.from(sealed!.data!, 'base64').subarray(0, 13).toString('base64'),
    };
    const answer = await decode({ authorization: `Bearer ${ADMIN_KEY}` }, [short]);
    expect(answer.statusCode).toBe(422);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json().detail).toBe(
      'payload sealed with key "dev" is 13 bytes, shorter than its IV and 16-byte tag',
    );
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
    await untilNotShedding(rotated);
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

describe('codec sessions of a browser', () => {
  const cookieValue = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1);
  const sessionRows = async () =>
    [...(await stack.database.db.execute(sql`select * from codec_sessions`))] as Record<string, unknown>[];

  it('holds a random session id, never the API key, and the database only its hash', async () => {
    const session = await stack.app.inject({
      method: 'POST',
      url: '/codec/session',
      payload: { key: ADMIN_KEY },
    });
    expect(session.statusCode).toBe(204);
    const setCookie = String(session.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^aftercare_codec_session=[A-Za-z0-9_-]{43}; Path=\/codec; HttpOnly; SameSite=Lax; Max-Age=28800$/,
    );
    expect(setCookie).not.toContain(ADMIN_KEY);
    const id = cookieValue(setCookie.split(';')[0]!);
    const stored = JSON.stringify(await sessionRows());
    expect(stored).toContain('"actor_id":"ops-1"');
    expect(stored).not.toContain(id);
    expect(stored).not.toContain(ADMIN_KEY);
  });

  it('marks the cookie Secure when the API is reached by a name other than loopback', async () => {
    const cookieFor = async (host: string) =>
      String(
        (
          await stack.app.inject({
            method: 'POST',
            url: '/codec/session',
            headers: { host },
            payload: { key: ADMIN_KEY },
          })
        ).headers['set-cookie'],
      );
    expect(await cookieFor('aftercare.example.com')).toMatch(/; Secure$/);
    expect(await cookieFor('10.0.0.7:3000')).toMatch(/; Secure$/);
    for (const loopback of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000']) {
      expect(await cookieFor(loopback)).not.toContain('Secure');
    }
  });

  it('refuses an unknown, expired or malformed session with 401 — a bad % included — on decode and encode', async () => {
    const expired = await signIn();
    await stack.database.db.execute(
      sql`update codec_sessions set expires_at = now() - interval '1 second'
          where id_hash = encode(sha256(${cookieValue(expired)}::bytea), 'hex')`,
    );
    const payloads = await startedPayloads();
    const cookies = [
      expired,
      `aftercare_codec_session=${'A'.repeat(43)}`,
      'aftercare_codec_session=%E0%A4%A',
      'aftercare_codec_session=',
    ];
    for (const cookie of cookies) {
      for (const url of ['/codec/decode', '/codec/encode']) {
        const answer = await stack.app.inject({
          method: 'POST',
          url,
          headers: { cookie, origin: UI_ORIGIN },
          payload: { payloads },
        });
        expect(answer.statusCode, `${url} with ${cookie}`).toBe(401);
        expect(answer.json().detail).toBe(
          'the codec session is unknown or has expired: sign in again at /codec/login',
        );
      }
    }
  });

  it('lasts CODEC_SESSION_TTL in the database and in the cookie', async () => {
    const short = await buildApp({
      config: { ...stack.config, codecSessionTtlMs: 90_000 },
      db: stack.database.db,
      temporal: stack.temporal,
      logger: pino({ level: 'silent' }),
    });
    await untilNotShedding(short);
    const session = await short.inject({
      method: 'POST',
      url: '/codec/session',
      payload: { key: ADMIN_KEY },
    });
    expect(String(session.headers['set-cookie'])).toMatch(/; Max-Age=90$/);
    const id = cookieValue(String(session.headers['set-cookie']).split(';')[0]!);
    const [row] = await stack.database.db.execute(
      sql`select extract(epoch from expires_at - created_at)::int as seconds from codec_sessions
          where id_hash = encode(sha256(${id}::bytea), 'hex')`,
    );
    expect(row?.seconds).toBe(90);
    await short.close();
  });

  it('signs out: the session is deleted and the cookie cleared', async () => {
    const cookie = await signIn();
    expect((await decode({ cookie, origin: UI_ORIGIN }, [])).statusCode).toBe(200);
    const logout = await stack.app.inject({
      method: 'DELETE',
      url: '/codec/session',
      headers: { cookie, origin: 'http://localhost:80' },
    });
    expect(logout.statusCode).toBe(204);
    expect(String(logout.headers['set-cookie'])).toMatch(
      /^aftercare_codec_session=; Path=\/codec; .*Max-Age=0/,
    );
    expect(JSON.stringify(await sessionRows())).not.toContain(
      createHash('sha256').update(cookieValue(cookie)).digest('hex'),
    );
    expect((await decode({ cookie, origin: UI_ORIGIN }, [])).statusCode).toBe(401);
  });

  it('refuses a browser request from an origin other than Temporal UI’s or the sign-in page’s (403)', async () => {
    const cookie = await signIn();
    const payloads = await startedPayloads();
    const evil = await decode({ cookie, origin: 'http://evil.example' }, payloads);
    expect(evil.statusCode).toBe(403);
    expect(evil.json().detail).toMatch(/^origin http:\/\/evil\.example may not call the codec endpoint/);
    expect((await decode({ cookie, origin: 'http://localhost:9999' }, payloads)).statusCode).toBe(403);
    const withoutOrigin = await decode({ cookie }, payloads);
    expect(withoutOrigin.statusCode).toBe(403);
    expect(withoutOrigin.json().detail).toMatch(/Origin header/);
    const foreignSignIn = await stack.app.inject({
      method: 'POST',
      url: '/codec/session',
      headers: { origin: 'http://evil.example' },
      payload: { key: ADMIN_KEY },
    });
    expect(foreignSignIn.statusCode).toBe(403);
    expect(foreignSignIn.headers['set-cookie']).toBeUndefined();
    const signInPage = await stack.app.inject({
      method: 'POST',
      url: '/codec/session',
      headers: { host: 'api.example.com', origin: 'https://api.example.com' },
      payload: { key: ADMIN_KEY },
    });
    expect(signInPage.statusCode).toBe(204);
  });

  it('ends the sessions of an operator whose key was removed from API_KEYS', async () => {
    const cookie = await signIn();
    const withoutOps1 = await buildApp({
      config: loadConfig({ DATABASE_URL: inject('databaseUrl'), API_KEYS: 'another-admin-key:admin:ops-2' }),
      db: stack.database.db,
      temporal: stack.temporal,
      logger: pino({ level: 'silent' }),
    });
    await untilNotShedding(withoutOps1);
    const answer = await withoutOps1.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { cookie, origin: UI_ORIGIN },
      payload: { payloads: [] },
    });
    expect(answer.statusCode).toBe(401);
    await withoutOps1.close();
  });
});

describe('a two-phase key rotation during rolling restarts', () => {
  const queueB = `operators-b-${process.pid}`;
  const entry = (id: string, key: Buffer) => `${id}:${key.toString('base64')}`;
  const stacks: ApiStack[] = [];
  const stops: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const stop of stops) await stop();
    for (const api of stacks) await api.close();
  });

  async function api(taskQueue: string, env: Record<string, string> = {}): Promise<ApiStack> {
    const started = await startApi({ taskQueue, policy: { firstResponse: '2s' }, env });
    stacks.push(started);
    return started;
  }

  /** Creates a ticket through `through` and acknowledges it: the worker opens its input, the API the answer. */
  async function createAndAcknowledge(through: ApiStack): Promise<string> {
    const headers = { authorization: `Bearer ${ADMIN_KEY}` };
    const created = await through.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers,
      payload: {
        channel: 'phone',
        category: 'fault',
        priority: 'normal',
        customer,
        description: 'No hot water',
      },
    });
    expect(created.statusCode).toBe(201);
    const number: string = created.json().number;
    const acknowledged = await through.app.inject({
      method: 'POST',
      url: `/v1/tickets/${number}/acknowledge`,
      headers,
      payload: {},
    });
    expect(acknowledged.statusCode).toBe(200);
    expect(acknowledged.json().status).toBe('acknowledged');
    return number;
  }

  async function sealedWith(number: string): Promise<string> {
    const raw = new Client({
      connection: stack.temporal.connection,
      namespace: stack.config.temporal.namespace,
    });
    const history = await raw.workflow.getHandle(workflowIdOf(number)).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    return Buffer.from(input?.metadata?.['encryption-key-id'] ?? new Uint8Array()).toString();
  }

  it('old and phase-1 processes read each other; in phase 2 the new key seals and phase-1 workers read it', async () => {
    const old = stack.config.payloadKeys[0]!;
    const keys = `${entry(old.id, old.key)},${entry('k2027', Buffer.alloc(32, 27))}`;
    const phase1 = { PAYLOAD_ENCRYPTION_KEYS: keys, PAYLOAD_ENCRYPTION_KEY_ID: old.id };
    const phase2 = { PAYLOAD_ENCRYPTION_KEYS: keys, PAYLOAD_ENCRYPTION_KEY_ID: 'k2027' };

    // Phase 1 mid-roll-out: a restarted API in front of a worker not yet restarted (queue A) ...
    const phase1Api = await api(taskQueue, phase1);
    const fromPhase1Api = await createAndAcknowledge(phase1Api);
    expect(await sealedWith(fromPhase1Api)).toBe(old.id);
    // ... and an API not yet restarted in front of a restarted worker (queue B).
    const phase1Worker = {
      ...phase1Api.config,
      temporal: { ...phase1Api.config.temporal, taskQueue: queueB },
    };
    stops.push(await runWorkerFor(phase1Worker, stack.database.db));
    const oldApi = await api(queueB);
    expect(await sealedWith(await createAndAcknowledge(oldApi))).toBe(old.id);

    // Phase 2 mid-roll-out: an API sealing with the new key, a worker still in phase 1.
    const phase2Api = await api(queueB, phase2);
    expect(await sealedWith(await createAndAcknowledge(phase2Api))).toBe('k2027');
  }, 90_000);
});
