import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectDatabase, type Database } from '../../db/client';
import { RECIPIENT_PURPOSE, SECRET_PURPOSE } from '../../db/delivery-store';
import { FieldDecryptionError } from '../../db/field-cipher';
import { applyMigrations } from '../../db/migrate';
import { findTicket, saveTicketChange } from '../../db/ticket-store';
import { openTicket, recordOpening } from '../../domain/lifecycle';
import type { TicketState } from '../../domain/ticket';
import { SIGNATURE_HEADER } from '../../notify/webhook';
import {
  AGENT,
  intake,
  policy,
  TEST_CUSTOMER_ID,
  TEST_PAYLOAD_KEYS,
  uniqueTicketNumber,
} from '../support/fixtures';
import { createOwnDatabase, runRelayFor } from '../support/relay';
import { startApi, type ApiStack } from '../support/stack';
import { createOwnNamespace, runWorkerFor } from '../support/temporal';

/**
 * Personal data and secrets at rest: what PostgreSQL stores is sealed with the payload keys, on a
 * database and namespace of their own (its relay sends for every subscription in its database).
 */
const tag = `${process.pid}${randomInt(1e6)}`;
const ADMIN = `rest-admin-${tag}`;
const AGENT_KEY = `rest-agent-${tag}`;
const QC = `rest-qc-${tag}`;
const FINANCE = `rest-finance-${tag}`;
const CLIENT = `rest-client-${tag}`;
const SECRET = `whsec-${tag}-0123456789`;
const customer = {
  name: `客户${tag}`,
  phone: `139${String(randomInt(1e8)).padStart(8, '0')}`,
  email: `c${tag}@example.com`,
  address: `上海市浦东新区张江路${tag}号`,
};
const description = `The compressor rattles ${tag}`;

let stack: ApiStack;
let databaseUrl: string;
let stopWorker: () => Promise<void>;
let stopRelay: () => Promise<void>;
let receiver: Server;
const signatures: { valid: boolean }[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(request.headers[SIGNATURE_HEADER]));
      const expected = createHmac('sha256', SECRET)
        .update(`${match?.[1]}.${Buffer.concat(chunks).toString('utf8')}`)
        .digest('hex');
      signatures.push({ valid: match?.[2] === expected });
      response.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  let namespace: string;
  [databaseUrl, namespace] = await Promise.all([createOwnDatabase('at_rest'), createOwnNamespace('at_rest')]);
  stack = await startApi({
    taskQueue: `at-rest-${tag}`,
    policy: { firstResponse: '1h' },
    env: {
      DATABASE_URL: databaseUrl,
      TEMPORAL_NAMESPACE: namespace,
      API_KEYS: `${ADMIN}:admin:ops-1,${AGENT_KEY}:agent:agent-7,${QC}:qc:qc-1,${FINANCE}:finance:fin-1,${CLIENT}:client:shop-app`,
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  stopRelay = await runRelayFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopRelay?.();
  await stopWorker?.();
  await stack?.close();
  receiver?.closeAllConnections();
  await new Promise((done) => receiver?.close(done));
});

const call = (
  key: string,
  method: 'GET' | 'POST',
  url: string,
  payload?: Record<string, unknown>,
  headers: Record<string, string> = {},
) => stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}`, ...headers } });

/** Every row of the tables that could hold personal data or secrets, as raw text. */
async function rawText(db: Database): Promise<string> {
  const tables = [
    'tickets',
    'idempotency_keys',
    'deliveries',
    'outbox_messages',
    'webhook_subscriptions',
    'notifications',
    'ticket_events',
  ];
  const texts = await Promise.all(
    tables.map(async (table) => {
      const rows = await db.execute<{ row: string }>(
        sql`select t::text as row from ${sql.identifier(table)} t`,
      );
      return rows.map((row) => row.row).join('\n');
    }),
  );
  return texts.join('\n');
}

describe('personal data and secrets at rest', () => {
  it('stores no customer name, contact, description or webhook secret in clear; authorised reads still show them', async () => {
    const subscribed = await call(ADMIN, 'POST', '/v1/webhooks', {
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      eventTypes: ['*'],
      secret: SECRET,
    });
    expect(subscribed.statusCode).toBe(201);
    const body = {
      channel: 'phone',
      category: 'fault',
      priority: 'normal',
      customer,
      product: { model: 'KFR-35GW/ABC123', serialNumber: `SN${tag}` },
      description,
    };
    const created = await call(AGENT_KEY, 'POST', '/v1/tickets', body, {
      'idempotency-key': `create-${tag}`,
    });
    expect(created.statusCode).toBe(201);
    const { number } = created.json();
    // Acknowledging texts the customer: the outbox holds a message to their phone.
    const acknowledged = await call(
      AGENT_KEY,
      'POST',
      `/v1/tickets/${number}/acknowledge`,
      {},
      {
        'idempotency-key': `ack-${tag}`,
      },
    );
    expect(acknowledged.statusCode).toBe(200);
    const notifications = await vi.waitFor(
      async () => {
        const items = (await call(ADMIN, 'GET', `/v1/tickets/${number}/notifications`)).json().items;
        expect(items).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ recipient: customer.phone, status: 'delivered' }),
          ]),
        );
        return items;
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(notifications.length).toBeGreaterThan(0);
    // The relay opened the sealed secret to sign.
    await vi.waitFor(() => expect(signatures.length).toBeGreaterThanOrEqual(2), { timeout: 15_000 });
    expect(signatures.every((signature) => signature.valid)).toBe(true);

    const raw = await rawText(stack.database.db);
    expect(raw).toContain(number);
    for (const secret of [...Object.values(customer), description, SECRET]) expect(raw).not.toContain(secret);

    // Authorised reads see the data; a qc reviewer sees it masked; a repeat is answered in full too.
    const read = (await call(ADMIN, 'GET', `/v1/tickets/${number}`)).json();
    expect(read).toMatchObject({ customer, description, status: 'acknowledged' });
    const listed = (await call(ADMIN, 'GET', `/v1/tickets?q=${number}`)).json().items;
    expect(listed[0]).toMatchObject({ number, customer, description });
    const masked = (await call(QC, 'GET', `/v1/tickets/${number}`)).json();
    expect(masked.customer.name).not.toBe(customer.name);
    expect(masked.customer.phone).toBe(`139****${customer.phone.slice(-4)}`);
    const repeat = await call(AGENT_KEY, 'POST', '/v1/tickets', body, { 'idempotency-key': `create-${tag}` });
    expect(repeat.headers['idempotent-replayed']).toBe('true');
    expect(repeat.json()).toMatchObject({ number, customer, description });
  });
});

describe("what a client sees of the staff's work", () => {
  it('no notes, reasons or diagnoses and no staff or engineer ids; agents see them, qc and finance with the contacts in them masked', async () => {
    // The tag in letters: its digits could read as a mobile number (11 digits from 13–19) and be masked.
    const word = [...tag].map((digit) => String.fromCharCode(97 + Number(digit))).join('');
    const NOTE = `Neighbour at 13511112222 has the key ${word}`;
    const MASKED_NOTE = `Neighbour at 135****2222 has the key ${word}`;
    const MAILED = `发票寄到 li.si.${tag}@example.com,电话 010-66667777`;
    const created = await call(CLIENT, 'POST', '/v1/tickets', {
      channel: 'app',
      category: 'fault',
      priority: 'normal',
      customer: { name: '赵六', phone: '13600002222' },
      description: 'Fridge is warm',
    });
    expect(created.statusCode).toBe(201);
    const { number } = created.json();
    expect(
      (await call(AGENT_KEY, 'POST', `/v1/tickets/${number}/acknowledge`, { note: NOTE })).statusCode,
    ).toBe(200);
    expect((await call(AGENT_KEY, 'POST', `/v1/tickets/${number}/note`, { text: NOTE })).statusCode).toBe(
      200,
    );
    expect((await call(AGENT_KEY, 'POST', `/v1/tickets/${number}/note`, { text: MAILED })).statusCode).toBe(
      200,
    );
    const held = await call(AGENT_KEY, 'POST', `/v1/tickets/${number}/hold`, { reason: NOTE });
    expect(held.statusCode).toBe(200);
    await vi.waitFor(
      async () => {
        const items = (await call(ADMIN, 'GET', `/v1/tickets/${number}/notifications`)).json().items;
        expect(items.length).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 200 },
    );

    const asClient = await Promise.all(
      ['', '/events', '/notifications'].map(async (path) =>
        (await call(CLIENT, 'GET', `/v1/tickets/${number}${path}`)).json(),
      ),
    );
    const text = JSON.stringify(asClient);
    expect(text).not.toContain(NOTE);
    expect(text).not.toContain('agent-7');
    expect(asClient[0]).toMatchObject({ status: 'on_hold', hold: { reason: '***' } });
    const events = asClient[1].events as {
      type: string;
      actorId: string | null;
      data: Record<string, unknown>;
    }[];
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['created', 'acknowledged', 'note', 'held']),
    );
    expect(events.find((event) => event.type === 'created')?.actorId).toBe('shop-app');
    expect(events.find((event) => event.type === 'note')).toMatchObject({
      actorId: '***',
      actorRole: 'agent',
      data: {},
    });
    expect(
      asClient[2].items.every((item: { recipientRole: string }) => item.recipientRole === 'customer'),
    ).toBe(true);

    // Staff who may see personal data read notes verbatim; qc (whose work is reviewing them) and
    // finance read them too, and who wrote them, with the phone numbers and addresses masked.
    for (const [key, note, mailed] of [
      [AGENT_KEY, NOTE, MAILED],
      [QC, MASKED_NOTE, '发票寄到 l***@example.com,电话 010****7777'],
      [FINANCE, MASKED_NOTE, '发票寄到 l***@example.com,电话 010****7777'],
    ] as const) {
      const staffEvents: { type: string; actorId: string; data: Record<string, unknown> }[] = (
        await call(key, 'GET', `/v1/tickets/${number}/events`)
      ).json().events;
      const notes = staffEvents.filter((event) => event.type === 'note');
      expect(notes.map(({ actorId, data }) => ({ actorId, data }))).toEqual([
        { actorId: 'agent-7', data: { text: note } },
        { actorId: 'agent-7', data: { text: mailed } },
      ]);
      const read = (await call(key, 'GET', `/v1/tickets/${number}`)).json();
      expect(read.hold.reason).toBe(note);
      expect(JSON.stringify(read)).toContain(note);
    }
    for (const key of [QC, FINANCE]) {
      const everything = JSON.stringify(
        await Promise.all(
          ['', '/events'].map(async (path) =>
            (await call(key, 'GET', `/v1/tickets/${number}${path}`)).json(),
          ),
        ),
      );
      for (const clear of ['13511112222', `li.si.${tag}@example.com`, '66667777']) {
        expect(everything).not.toContain(clear);
      }
    }
  });
});

describe('Idempotency-Key claims', () => {
  it('keep the version answered, not the answer, and lapse after IDEMPOTENCY_KEY_TTL (24 h by default)', async () => {
    const key = `expiring-${tag}`;
    const body = (text: string) => ({
      channel: 'web',
      category: 'consultation',
      priority: 'normal',
      customer: { name: '李四', phone: '13900001111' },
      description: text,
    });
    const first = await call(AGENT_KEY, 'POST', '/v1/tickets', body('first'), { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    const [claim] = await stack.database.db.execute<{
      completed_version: number;
      lasts_ms: number;
      columns: string;
    }>(sql`select completed_version, extract(epoch from expires_at - created_at) * 1000 as lasts_ms,
                  (select string_agg(column_name, ',' order by column_name) from information_schema.columns
                   where table_name = 'idempotency_keys') as columns
           from idempotency_keys where key = ${key}`);
    expect(claim?.completed_version).toBe(1);
    // The claim lapses 24 h after the request (its expiry is set a moment after the creation time).
    expect(Number(claim?.lasts_ms)).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(Number(claim?.lasts_ms)).toBeLessThan(24 * 3_600_000 + 60_000);
    expect(claim?.columns.split(',')).not.toContain('response');
    const reused = await call(AGENT_KEY, 'POST', '/v1/tickets', body('second'), { 'idempotency-key': key });
    expect(reused.statusCode).toBe(422);

    // Once lapsed, the key is free: the same key opens a new ticket.
    await stack.database.db.execute(
      sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = ${key}`,
    );
    const again = await call(AGENT_KEY, 'POST', '/v1/tickets', body('second'), { 'idempotency-key': key });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.json().number).not.toBe(first.json().number);
  });
});

describe('the key ring', () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };

  function ticket(): TicketState {
    return openTicket({
      number: uniqueTicketNumber(),
      intake: intake(),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: Date.now(),
      policy: policy(),
    });
  }

  it('rotates: a row sealed with k1 opens after k2 is added in front, and start-up re-seals it with k2', async () => {
    const url = await createOwnDatabase('rotation');
    const onlyK1 = connectDatabase(url, { max: 1, payloadKeys: [k1] });
    const rotated = connectDatabase(url, { max: 1, payloadKeys: [k2, k1] });
    const onlyK2 = connectDatabase(url, { max: 1, payloadKeys: [k2] });
    try {
      const state = ticket();
      await saveTicketChange(onlyK1.db, state, recordOpening(state));
      const [{ pii } = { pii: '' }] = await rotated.db.execute<{ pii: string }>(
        sql`select pii from tickets where number = ${state.number}`,
      );
      expect(pii.startsWith('enc1:k1:')).toBe(true);
      expect(await findTicket(rotated.db, state.number)).toEqual(state);
      await expect(findTicket(onlyK2.db, state.number)).rejects.toThrow(FieldDecryptionError);

      // Start-up under the rotated ring re-seals with k2: k1 may then be retired.
      await applyMigrations(url, [k2, k1]);
      const [{ pii: resealed } = { pii: '' }] = await rotated.db.execute<{ pii: string }>(
        sql`select pii from tickets where number = ${state.number}`,
      );
      expect(resealed.startsWith('enc1:k2:')).toBe(true);
      expect(await findTicket(onlyK2.db, state.number)).toEqual(state);
    } finally {
      await Promise.all([onlyK1.close(), rotated.close(), onlyK2.close()]);
    }
  });

  it('start-up seals rows written before personal data was sealed: tickets, outbox recipients, webhook secrets', async () => {
    const url = await createOwnDatabase('backfill');
    const handle = connectDatabase(url, { max: 1, payloadKeys: TEST_PAYLOAD_KEYS });
    try {
      const { db } = handle;
      const state = ticket();
      await saveTicketChange(db, state, recordOpening(state));
      // As a release before 0006 wrote them: the whole ticket in `state`, the rest in clear.
      await db.execute(sql`update tickets set state = ${JSON.stringify(state)}::jsonb, pii = null
                           where number = ${state.number}`);
      await db.execute(sql`insert into deliveries (id, ticket_number, version, kind, channel)
                           values (${`${state.number}:n9`}, ${state.number}, 1, 'notification', 'sms')`);
      await db.execute(sql`insert into outbox_messages (delivery_id, channel, recipient, language, body, sent_at)
                           values (${`${state.number}:n9`}, 'sms', '13812345678', 'zh-CN', 'hi', now())`);
      await db.execute(sql`insert into webhook_subscriptions (id, url, event_types, secret)
                           values (${`legacy-${tag}`}, 'http://127.0.0.1:9/hook', '["*"]', ${SECRET})`);
      expect(await findTicket(db, state.number)).toEqual(state);

      const sealed = await applyMigrations(url, TEST_PAYLOAD_KEYS);
      expect(sealed).toEqual({ tickets: 1, recipients: 1, secrets: 1 });
      const raw = await rawText(db);
      for (const secret of [
        state.intake.customer.name,
        state.intake.customer.phone,
        state.intake.description,
        SECRET,
      ])
        expect(raw).not.toContain(secret);
      expect(await findTicket(db, state.number)).toEqual(state);
      const [subscription] = await db.execute<{ secret: string }>(
        sql`select secret from webhook_subscriptions where id = ${`legacy-${tag}`}`,
      );
      expect(db.$cipher.open(subscription?.secret ?? '', SECRET_PURPOSE)).toBe(SECRET);
      const [message] = await db.execute<{ recipient: string }>(
        sql`select recipient from outbox_messages where delivery_id = ${`${state.number}:n9`}`,
      );
      expect(db.$cipher.open(message?.recipient ?? '', RECIPIENT_PURPOSE)).toBe('13812345678');
      // Nothing is left to seal: a second start seals nothing.
      expect(await applyMigrations(url, TEST_PAYLOAD_KEYS)).toEqual({
        tickets: 0,
        recipients: 0,
        secrets: 0,
      });
    } finally {
      await handle.close();
    }
  });
});
