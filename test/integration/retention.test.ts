import { randomInt } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { loadConfig, type AppConfig } from '../../config';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { findTicket, saveTicketChange } from '../../db/ticket-store';
import { ANONYMISED } from '../../db/ticket-pii';
import { openTicket, recordOpening } from '../../domain/lifecycle';
import type { TicketState } from '../../domain/ticket';
import { connectNativeConnection } from '../../temporal/connection';
import { ensureRetentionSchedule, RETENTION_SCHEDULE_ID } from '../../temporal/retention';
import { createTicketWorker } from '../../worker/worker';
import {
  AGENT,
  intake,
  policy,
  satisfiedCallback,
  serviceRecord,
  TEST_CUSTOMER_ID,
  testDataConverter,
  uniqueTicketNumber,
} from '../support/fixtures';
import { createOwnDatabase } from '../support/relay';
import { createOwnNamespace } from '../support/temporal';

/**
 * Retention: the Schedule the worker creates at start, and the run it starts against a database of
 * its own (the run anonymises and deletes by age across the whole database).
 */
const tag = `${process.pid}${randomInt(1e6)}`;
const NOTE = `Customer asked us to call their neighbour ${tag}`;
const COMMENT = `The engineer ${tag} was great`;
let config: AppConfig;
let database: DatabaseHandle;
let connection: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  const [databaseUrl, namespace] = await Promise.all([
    createOwnDatabase('retention'),
    createOwnNamespace('retention'),
  ]);
  config = loadConfig({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TASK_QUEUE: `retention-${tag}`,
    RETENTION_SCHEDULE: '30 2 * * *',
  });
  database = connectDatabase(databaseUrl, { max: 4, payloadKeys: config.payloadKeys });
  connection = await connectNativeConnection(config.temporal);
  client = new Client({ connection, namespace, dataConverter: testDataConverter });
  // As worker/main.ts starts it.
  worker = await createTicketWorker({
    connection,
    namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter: testDataConverter,
    dependencies: { db: database.db },
    workflowBundlePath: inject('workflowBundlePath'),
    retention: { settings: config.retention, timeZone: config.policy.calendar.timeZone },
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await database?.close();
});

const YEAR_MS = 365 * 86_400_000;

function ticket(status: 'new' | 'closed'): TicketState {
  const state = openTicket({
    number: uniqueTicketNumber(),
    intake: intake({ customer: { name: `王${tag}`, phone: '13700001111', address: `北京市朝阳区${tag}号` } }),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: Date.now(),
    policy: policy(),
  });
  if (status === 'closed') {
    const at = new Date().toISOString();
    state.status = 'closed';
    state.closure = { at, reason: 'customer_satisfied' };
    state.archivedAt = at;
    state.serviceRecords = [{ at, actor: AGENT, input: serviceRecord }];
    state.callbacks = [
      { at, actor: AGENT, complaint: false, input: { ...satisfiedCallback, comment: COMMENT } },
    ];
  }
  return state;
}

/** Writes the ticket with a note on its timeline, then ages it. */
async function seed(state: TicketState, ageMs: number): Promise<void> {
  const change = recordOpening(state);
  change.events.push({ seq: 2, type: 'note', at: state.createdAt, actor: AGENT, data: { text: NOTE } });
  await saveTicketChange(database.db, state, change);
  await database.db.execute(sql`update tickets set updated_at = now() - make_interval(secs => ${ageMs / 1000})
                                where number = ${state.number}`);
}

async function seedDelivery(id: string, number: string, status: string, ageMs: number): Promise<void> {
  await database.db.execute(sql`
    insert into deliveries (id, ticket_number, version, kind, channel, status, created_at)
    values (${id}, ${number}, 1, 'notification', 'sms', ${status}, now() - make_interval(secs => ${ageMs / 1000}))`);
  await database.db.execute(sql`
    insert into delivery_attempts (delivery_id, attempt, at, ok, duration_ms) values (${id}, 1, now(), true, 5)`);
  await database.db.execute(sql`
    insert into outbox_messages (delivery_id, channel, recipient, language, body, sent_at)
    values (${id}, 'sms', ${database.db.$cipher.seal('13700001111', 'outbox_messages.recipient')}, 'zh-CN', 'hi', now())`);
}

async function seedClaim(key: string, number: string, expiresInMs: number): Promise<void> {
  await database.db.execute(sql`
    insert into idempotency_keys (scope, key, request_hash, ticket_number, created_at, completed_version, expires_at)
    values ('create:agent-7', ${key}, 'h', ${number}, now(), 1, now() + make_interval(secs => ${expiresInMs / 1000}))`);
}

describe('the retention Schedule', () => {
  it('exists after the worker starts, with the configured times and ages; a restart with other settings updates it', async () => {
    const description = await client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
    // The server keeps RETENTION_SCHEDULE ("30 2 * * *") as a calendar: 02:30 every day.
    expect(description.spec.calendars).toEqual([
      expect.objectContaining({
        hour: [{ start: 2, end: 2, step: 1 }],
        minute: [{ start: 30, end: 30, step: 1 }],
      }),
    ]);
    expect(description.spec.timezone).toBe(config.policy.calendar.timeZone);
    expect(description.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'retentionWorkflow',
      taskQueue: config.temporal.taskQueue,
      args: [{ closedTicketsMs: 1095 * 86_400_000, deliveriesMs: 30 * 86_400_000 }],
    });
    expect(description.policies.overlap).toBe('SKIP');

    await ensureRetentionSchedule(
      client,
      config.temporal.taskQueue,
      { ...config.retention, schedule: { everyMs: 6 * 3_600_000 } },
      config.policy.calendar.timeZone,
    );
    const updated = await client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
    expect(updated.spec.intervals?.map((interval) => interval.every)).toEqual([6 * 3_600_000]);
    expect(updated.spec.calendars ?? []).toEqual([]);
  });

  it('starts a run that anonymises old finished tickets, keeps their KPI fields, and deletes lapsed claims and old deliveries', async () => {
    const oldClosed = ticket('closed');
    const oldOpen = ticket('new');
    const recentClosed = ticket('closed');
    await seed(oldClosed, 4 * YEAR_MS);
    await seed(oldOpen, 4 * YEAR_MS);
    await seed(recentClosed, 0);
    await seedDelivery(`${oldClosed.number}:old-delivered`, oldClosed.number, 'delivered', 40 * 86_400_000);
    await seedDelivery(`${oldClosed.number}:old-pending`, oldClosed.number, 'pending', 40 * 86_400_000);
    await seedDelivery(`${oldClosed.number}:recent-delivered`, oldClosed.number, 'delivered', 0);
    await seedClaim(`lapsed-${tag}`, oldClosed.number, -1_000);
    await seedClaim(`live-${tag}`, oldClosed.number, 3_600_000);

    const schedule = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
    await schedule.trigger();
    const workflowId = await vi.waitFor(
      async () => {
        const [run] = (await schedule.describe()).info.recentActions;
        expect(run).toBeDefined();
        return run!.action.workflow.workflowId;
      },
      { timeout: 15_000, interval: 200 },
    );
    const counts = await client.workflow.getHandle(workflowId).result();
    expect(counts).toEqual({ anonymisedTickets: 1, expiredIdempotencyKeys: 1, purgedDeliveries: 1 });

    // The old closed ticket: no personal data, no free text, the numbers kept.
    const [raw] = await database.db.execute<{ row: string; pii: string | null }>(
      sql`select t::text as row, pii from tickets t where number = ${oldClosed.number}`,
    );
    expect(raw?.pii).toBeNull();
    for (const text of [`王${tag}`, '13700001111', `北京市朝阳区${tag}号`, COMMENT, serviceRecord.diagnosis])
      expect(raw?.row).not.toContain(text);
    const anonymised = await findTicket(database.db, oldClosed.number);
    expect(anonymised).toMatchObject({
      number: oldClosed.number,
      status: 'closed',
      version: oldClosed.version,
      intake: {
        customer: { name: ANONYMISED, phone: ANONYMISED },
        description: ANONYMISED,
        category: oldClosed.intake.category,
        priority: oldClosed.intake.priority,
        product: { model: oldClosed.intake.product?.model },
      },
      clocks: oldClosed.clocks,
      reservices: 0,
    });
    expect(anonymised?.serviceRecords).toHaveLength(1);
    expect(anonymised?.serviceRecords[0]?.input).toMatchObject({
      parts: serviceRecord.parts,
      fees: serviceRecord.fees,
    });
    expect(anonymised?.callbacks[0]?.input).toEqual({
      channel: satisfiedCallback.channel,
      scores: satisfiedCallback.scores,
      satisfaction: satisfiedCallback.satisfaction,
    });
    const events = await database.db.execute<{ data: string }>(
      sql`select data::text from ticket_events where ticket_number = ${oldClosed.number} and type = 'note'`,
    );
    expect(events.map((event) => event.data)).toEqual(['{}']);

    // An open ticket of the same age and a recent closed one are untouched.
    expect(await findTicket(database.db, oldOpen.number)).toEqual(oldOpen);
    expect(await findTicket(database.db, recentClosed.number)).toEqual(recentClosed);
    const notes = await database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from ticket_events where type = 'note' and data->>'text' = ${NOTE}`,
    );
    expect(notes[0]?.n).toBe(2);

    const deliveries = await database.db.execute<{ id: string }>(
      sql`select id from deliveries where ticket_number = ${oldClosed.number} order by id`,
    );
    expect(deliveries.map((row) => row.id)).toEqual([
      `${oldClosed.number}:old-pending`,
      `${oldClosed.number}:recent-delivered`,
    ]);
    const leftovers = await database.db.execute<{ n: number }>(sql`
      select (select count(*) from delivery_attempts where delivery_id = ${`${oldClosed.number}:old-delivered`})
           + (select count(*) from outbox_messages where delivery_id = ${`${oldClosed.number}:old-delivered`}) as n`);
    expect(Number(leftovers[0]?.n)).toBe(0);
    const claims = await database.db.execute<{ key: string }>(
      sql`select key from idempotency_keys where key like ${`%-${tag}`}`,
    );
    expect(claims.map((row) => row.key)).toEqual([`live-${tag}`]);
  });
});
