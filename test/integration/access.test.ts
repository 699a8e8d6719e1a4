import { Writable } from 'node:stream';
import { randomInt } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app';
import { loadConfig, type AppConfig } from '../../config';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { can, maySeePersonalData, type Permission } from '../../domain/access';
import { ACTION_NAMES, type ActionName } from '../../domain/lifecycle';
import { ROLES, type Role } from '../../domain/ticket';
import { REDACTED_PATHS } from '../../logger';
import { connectClient } from '../../temporal/connection';
import { satisfiedCallback, serviceRecord, TEST_PAYLOAD_KEYS, testDataConverter } from '../support/fixtures';
import { untilNotShedding, writePolicyFile } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * The API as integrators meet it: every role against every route (the role table in docs/api.md, cell
 * by cell), masking, Idempotency-Key on creates and actions under concurrency, listing, and logs.
 */
const taskQueue = `access-${process.pid}`;
const keyOf = (role: Role | 'client2') => `${role}-key-${process.pid}-0001`;
const logLines: string[] = [];
let config: AppConfig;
let database: DatabaseHandle;
let temporal: Client;
let app: FastifyInstance;
let stopWorker: () => Promise<void>;

const phone = `135${randomInt(10_000_000, 99_999_999)}`;
const model = `MODEL-${randomInt(100_000, 999_999)}`;
const body = (overrides: Record<string, unknown> = {}) => ({
  channel: 'app',
  category: 'fault',
  priority: 'normal',
  customer: { name: '张三', phone, email: 'zhang.san@example.com', address: '上海市浦东新区世纪大道100号' },
  product: { model, serialNumber: `SN-${randomInt(100_000, 999_999)}` },
  description: 'Fridge is not cooling',
  ...overrides,
});

beforeAll(async () => {
  const keys = [
    ...ROLES.map((role) => `${keyOf(role)}:${role}:${role}-1`),
    `${keyOf('client2')}:client:client-2`,
  ];
  config = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SLA_POLICY_FILE: writePolicyFile({}),
    API_KEYS: keys.join(','),
  });
  database = connectDatabase(inject('databaseUrl'), { max: 20, payloadKeys: TEST_PAYLOAD_KEYS });
  temporal = await connectClient(config.temporal, testDataConverter);
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, logStream);
  app = await buildApp({ config, db: database.db, temporal, logger });
  await untilNotShedding(app);
  stopWorker = await runWorkerFor(config, database.db);
});

afterAll(async () => {
  await stopWorker?.();
  await app?.close();
  await temporal?.connection.close();
  await database?.close();
});

const bodies: { role: Role | 'client2'; text: string }[] = [];

async function call(
  role: Role | 'client2',
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await app.inject({
    method,
    url,
    payload: payload as Record<string, unknown> | undefined,
    headers: { authorization: `Bearer ${keyOf(role)}`, ...headers },
  });
  bodies.push({ role, text: response.body });
  return response;
}

async function newTicket(
  role: Role | 'client2' = 'admin',
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const response = await call(role, 'POST', '/v1/tickets', body(overrides));
  expect(response.statusCode).toBe(201);
  return response.json().number;
}

const ACTION_BODIES: Record<ActionName, Record<string, unknown>> = {
  acknowledge: {},
  classify: { priority: 'urgent' },
  plan: { measures: 'Replace the relay', department: 'field-service', customerConfirmed: true },
  assign: { engineerId: 'eng-access' },
  accept: {},
  decline: { reason: 'Too far' },
  schedule: { slotStart: '2099-01-01T09:00:00+08:00' },
  start: { mode: 'onsite' },
  'go-onsite': { reason: 'The remote reset did not help' },
  resolve: serviceRecord,
  'qc-review': { score: 90 },
  'record-rectification': { note: 'Retrained on the checklist' },
  'record-handling-cost': { items: [{ kind: 'revisit', amountFen: 8_000 }] },
  callback: satisfiedCallback,
  'follow-up': { contactMade: true, cause: 'x', improvementPlan: 'y' },
  'request-return': { returnReason: 'quality_defect', proofs: ['purchase_proof', 'product'] },
  approve: {},
  reject: { reason: 'Used beyond inspection' },
  'ship-back': { carrier: 'SF Express', trackingNumber: 'SF1234567890' },
  'receive-return': { signedBy: 'warehouse-3' },
  'inspect-return': { appearance: 'pass', function: 'pass' },
  refund: { amountFen: 129_900, method: 'wechat_pay', reference: 'WX-REF-1' },
  'settle-return': { outcome: 'refund', note: 'Agreed a refund after all' },
  'ship-replacement': { partNumber: 'KFR-35GW', carrier: 'SF Express', trackingNumber: 'SF1' },
  'confirm-replacement': { accepted: true },
  'receive-unit': { partNumber: 'KFR-35GW', locationId: 'wh-main', disposition: 'restock' },
  quote: { parts: [] },
  consent: { accepted: true },
  'record-payment': { amountFen: 18_000, method: 'wechat_pay', reference: 'WX-9' },
  'send-invoice': { invoiceNumber: 'INV-1' },
  'offer-remedy': { kind: 'voucher', valueFen: 5_000 },
  'decide-remedy': { approved: true },
  hold: { reason: 'Customer away' },
  resume: {},
  reopen: { reason: 'Broken again' },
  cancel: { reason: 'Duplicate' },
  close: { reason: 'customer_unreachable' },
  'escalation-ack': {},
  note: { text: 'Customer called again' },
};

/** What a brand-new ticket allows; every other action on it is an illegal transition (409). */
const LEGAL_ON_NEW: readonly ActionName[] = ['acknowledge', 'classify', 'cancel', 'note'];

describe('the role table, cell by cell', () => {
  it.each(ROLES)('POST /v1/tickets as %s', async (role) => {
    const response = await call(role, 'POST', '/v1/tickets', body());
    expect(response.statusCode).toBe(can(role, 'ticket.create') ? 201 : 403);
    if (response.statusCode === 403) {
      expect(response.json().detail).toBe(`role ${role} may not create tickets`);
    }
  });

  it.each(ROLES)('GET /v1/tickets, /v1/tickets/{number} and its events as %s', async (role) => {
    const byClient = await newTicket('client');
    const byAgent = await newTicket('agent');
    const list = await call(role, 'GET', `/v1/tickets?q=${model}&limit=100`);
    expect(list.statusCode).toBe(200);
    const listed = list.json().items.map((ticket: { number: string }) => ticket.number);
    const visible = (number: string) => {
      if (role === 'client') return number === byClient;
      if (role === 'engineer') return false; // nothing is assigned to it
      return true;
    };
    for (const number of [byClient, byAgent]) {
      expect(listed.includes(number)).toBe(visible(number));
      const read = await call(role, 'GET', `/v1/tickets/${number}`);
      expect(read.statusCode).toBe(visible(number) ? 200 : 404);
      const events = await call(role, 'GET', `/v1/tickets/${number}/events`);
      expect(events.statusCode).toBe(visible(number) ? 200 : 404);
    }
  });

  it('a client never sees another client’s ticket', async () => {
    const mine = await newTicket('client');
    expect((await call('client2', 'GET', `/v1/tickets/${mine}`)).statusCode).toBe(404);
    const list = await call('client2', 'GET', `/v1/tickets?q=${model}&limit=100`);
    expect(list.json().items.map((ticket: { number: string }) => ticket.number)).not.toContain(mine);
  });

  const cells = ROLES.flatMap((role) => ACTION_NAMES.map((action) => [role, action] as const));
  let shared: string | undefined;
  it.each(cells)('POST /v1/tickets/{number}/%s… as %s', async (role, action) => {
    // A refused role changes nothing, so those cells share one ticket; the others get a fresh one.
    const number = can(role, action as Permission) ? await newTicket() : (shared ??= await newTicket());
    const response = await call(role, 'POST', `/v1/tickets/${number}/${action}`, ACTION_BODIES[action]);
    // A role that may act but not see the ticket (an engineer it is not assigned to, a client that
    // did not create it) gets 404.
    const expected = !can(role, action as Permission)
      ? 403
      : role === 'engineer' || role === 'client'
        ? 404
        : LEGAL_ON_NEW.includes(action)
          ? 200
          : 409;
    expect(response.statusCode).toBe(expected);
  });
});

describe('masking of personal data', () => {
  it.each(ROLES)('as %s', async (role) => {
    const number = await newTicket(role === 'client' ? 'client' : 'admin');
    const response = await call(role, 'GET', `/v1/tickets/${number}`);
    if (role === 'engineer') return expect(response.statusCode).toBe(404);
    const { customer } = response.json();
    if (maySeePersonalData(role)) {
      expect(customer).toMatchObject({ name: '张三', phone, email: 'zhang.san@example.com' });
    } else {
      expect(customer).toEqual({
        name: '张*',
        phone: `${phone.slice(0, 3)}****${phone.slice(-4)}`,
        email: 'z***@example.com',
        address: '上海市浦东新***',
      });
    }
  });

  it('no answer to a client or QC reviewer, and no log line at all, holds a full phone number', () => {
    const leaks = bodies.filter(
      (entry) => !maySeePersonalData(entry.role as Role) && entry.text.includes(phone),
    );
    expect(bodies.length).toBeGreaterThan(50);
    expect(leaks).toEqual([]);
    expect(logLines.length).toBeGreaterThan(50);
    expect(logLines.filter((line) => line.includes(phone))).toEqual([]);
  });
});

describe('Idempotency-Key', () => {
  it('200 concurrent creates with one key make one ticket', async () => {
    const key = `create-${randomInt(1e9)}`;
    const sameBody = body();
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        call('agent', 'POST', '/v1/tickets', sameBody, { 'idempotency-key': key }),
      ),
    );
    expect(new Set(responses.map((response) => response.statusCode))).toEqual(new Set([201]));
    expect(new Set(responses.map((response) => response.json().number)).size).toBe(1);
  });

  it('a repeated action returns the first answer; concurrent repeats make one transition', async () => {
    const number = await newTicket();
    const key = `ack-${randomInt(1e9)}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('agent', 'POST', `/v1/tickets/${number}/acknowledge`, {}, { 'idempotency-key': key }),
      ),
    );
    expect(new Set(responses.map((response) => response.statusCode))).toEqual(new Set([200]));
    expect(new Set(responses.map((response) => response.json().version))).toEqual(new Set([2]));
    const later = await call(
      'agent',
      'POST',
      `/v1/tickets/${number}/acknowledge`,
      {},
      { 'idempotency-key': key },
    );
    expect(later.statusCode).toBe(200);
    expect(later.headers['idempotent-replayed']).toBe('true');
    const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    expect(events.filter((event: { type: string }) => event.type === 'acknowledged')).toHaveLength(1);
  });

  it('the same key with another body is 422 and changes nothing', async () => {
    const number = await newTicket();
    const key = `resolve-${randomInt(1e9)}`;
    await call('agent', 'POST', `/v1/tickets/${number}/acknowledge`);
    const first = await call(
      'agent',
      'POST',
      `/v1/tickets/${number}/resolve`,
      { ...serviceRecord, fix: 'A' },
      { 'idempotency-key': key },
    );
    expect(first.statusCode).toBe(200);
    const other = await call(
      'agent',
      'POST',
      `/v1/tickets/${number}/resolve`,
      { ...serviceRecord, fix: 'B' },
      { 'idempotency-key': key },
    );
    expect(other.statusCode).toBe(422);
    expect(other.json().detail).toContain(key);
    expect((await call('admin', 'GET', `/v1/tickets/${number}`)).json().version).toBe(first.json().version);
  });
});

describe('listing tickets', () => {
  it('filters, searches and pages with a stable cursor', async () => {
    const tag = `LIST-${randomInt(1e9)}`;
    const numbers: string[] = [];
    for (const priority of ['normal', 'urgent', 'normal', 'critical', 'normal']) {
      numbers.push(
        await newTicket('admin', {
          priority,
          product: { model: tag, serialNumber: `${tag}-${numbers.length}` },
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/tickets?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call('admin', 'GET', url)).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((ticket: { number: string }) => ticket.number));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...numbers].reverse());

    const normal = (await call('admin', 'GET', `/v1/tickets?q=${tag}&priority=normal`)).json().items;
    expect(normal).toHaveLength(3);
    const bySerial = (await call('admin', 'GET', `/v1/tickets?q=${tag}-3`)).json().items;
    expect(bySerial.map((ticket: { number: string }) => ticket.number)).toEqual([numbers[3]]);
    const byNumber = (await call('admin', 'GET', `/v1/tickets?q=${numbers[0]}`)).json().items;
    expect(byNumber.map((ticket: { number: string }) => ticket.number)).toEqual([numbers[0]]);
    const none = (
      await call('admin', 'GET', `/v1/tickets?q=${tag}&status=closed,cancelled&breached=true`)
    ).json();
    expect(none).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['limit=101', /querystring\.limit/],
    ['status=open', /querystring\.status/],
    ['cursor=not-a-cursor', /querystring\.cursor: is not a cursor this API returned/],
    ['createdFrom=yesterday', /querystring\.createdFrom/],
    ['colour=red', /Unrecognized key/],
  ])('refuses %s with a 400 naming it', async (query, detail) => {
    const response = await call('admin', 'GET', `/v1/tickets?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(detail);
  });

  it('treats search text as text, not SQL or a wildcard', async () => {
    for (const q of ["' OR 1=1 --", '%', '_', '\\']) {
      const response = await call('admin', 'GET', `/v1/tickets?q=${encodeURIComponent(q)}`);
      expect(response.statusCode).toBe(200);
      expect(response.json().items).toEqual([]);
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents every route with its answers, errors included', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const create = document.paths['/v1/tickets'].post;
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '413', '415', '422', '429', '503']),
    );
    for (const action of ACTION_NAMES) {
      expect(Object.keys(document.paths[`/v1/tickets/{number}/${action}`].post.responses)).toEqual(
        expect.arrayContaining(['200', '400', '401', '403', '404', '409', '422']),
      );
    }
    expect(
      document.paths['/v1/tickets'].get.parameters.map((parameter: { name: string }) => parameter.name),
    ).toEqual(
      expect.arrayContaining([
        'status',
        'priority',
        'category',
        'channel',
        'assignee',
        'escalationLevel',
        'breached',
        'q',
        'limit',
        'cursor',
      ]),
    );
  });
});
