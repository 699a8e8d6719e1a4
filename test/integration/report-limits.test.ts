import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { TEST_PAYLOAD_KEYS } from '../support/fixtures';

/**
 * Reports are the heaviest reads on the shared pool: a build that runs long is stopped by
 * PostgreSQL (REPORT_TIMEOUT) and answered 503, and only REPORT_CONCURRENCY of them run at once,
 * REPORT_QUEUE more waiting. A report runs long here because a test transaction holds an
 * ACCESS EXCLUSIVE lock on `tickets`, in a database of this file's own so no other test waits.
 */
const database = `aftercare_reports_${process.pid}_${randomInt(1e6)}`;
let admin: DatabaseHandle;
let locker: postgres.Sql;
let slow: ApiStack;
let busy: ApiStack;

beforeAll(async () => {
  const base = new URL(inject('databaseUrl'));
  admin = connectDatabase(base.toString(), { max: 1, payloadKeys: TEST_PAYLOAD_KEYS });
  await admin.db.execute(sql.raw(`create database ${database}`));
  const url = new URL(base);
  url.pathname = `/${database}`;
  await applyMigrations(url.toString(), TEST_PAYLOAD_KEYS);
  locker = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  [slow, busy] = await Promise.all([
    startApi({
      taskQueue: `report-timeout-${process.pid}`,
      policy: {},
      env: { DATABASE_URL: url.toString(), REPORT_TIMEOUT: '0.5s' },
    }),
    startApi({
      taskQueue: `report-limit-${process.pid}`,
      policy: {},
      env: {
        DATABASE_URL: url.toString(),
        REPORT_TIMEOUT: '60s',
        REPORT_CONCURRENCY: '2',
        REPORT_QUEUE: '1',
      },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([slow?.close(), busy?.close()]);
  await locker?.end({ timeout: 5 });
  await admin?.close();
});

const SUMMARY = '/v1/reports/summary?from=2026-01-01&to=2026-01-31';
const report = (stack: ApiStack, url = SUMMARY) =>
  stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });

/** Locks `tickets` until the returned function is called: every report query on it waits meanwhile. */
async function lockTickets(): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const transaction = locker.begin(async (tx) => {
    await tx`lock table tickets in access exclusive mode`;
    locked();
    await released;
  });
  await Promise.race([isLocked, transaction]);
  return async () => {
    release();
    await transaction;
  };
}

/** Connections of this file's database that wait for a lock: report queries held up by `lockTickets`. */
async function waitingForTheLock(): Promise<number> {
  const [row] = (await admin.db.execute(
    sql`select count(*)::int as n from pg_stat_activity where datname = ${database} and wait_event_type = 'Lock'`,
  )) as unknown as { n: number }[];
  return row?.n ?? 0;
}

describe('report time budget (REPORT_TIMEOUT)', () => {
  it(
    'stops a report that runs past it and answers 503 naming it, never a 500',
    { timeout: 20_000 },
    async () => {
      const unlock = await lockTickets();
      let response: Awaited<ReturnType<typeof report>>;
      const started = performance.now();
      try {
        response = await report(slow);
      } finally {
        await unlock();
      }
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({
        status: 503,
        title: 'Report timed out',
        detail:
          'the report took longer than REPORT_TIMEOUT (0.5 s) and was stopped; ask for a shorter period or retry later',
      });
      expect(await waitingForTheLock()).toBe(0);
      // The connection went back to the pool in working order: the next report is built.
      const next = await report(slow);
      expect(next.statusCode).toBe(200);
      expect(next.json().tickets.total).toBe(0);
    },
  );
});

describe('reports at once (REPORT_CONCURRENCY=2, REPORT_QUEUE=1)', () => {
  it(
    'builds two on one connection each, queues one, and answers the rest 503 at once',
    { timeout: 30_000 },
    async () => {
      const unlock = await lockTickets();
      const answered: number[] = [];
      let requests: ReturnType<typeof report>[] = [];
      try {
        requests = Array.from({ length: 6 }, (_, index) =>
          report(busy, index % 2 ? SUMMARY : SUMMARY.replace('summary?', 'summary.svg?')).then((response) => {
            answered.push(response.statusCode);
            return response;
          }),
        );
        // While the two builds wait for the lock, the three beyond the queue are already answered.
        await vi.waitFor(() => expect(answered).toHaveLength(3), { timeout: 10_000, interval: 50 });
        expect(answered).toEqual([503, 503, 503]);
        // Two builds reached PostgreSQL, each with its queries on one connection, one after another.
        await vi.waitFor(async () => expect(await waitingForTheLock()).toBe(2), { timeout: 10_000 });
      } finally {
        await unlock();
      }
      const responses = await Promise.all(requests);
      expect(responses.map((response) => response.statusCode).sort()).toEqual([200, 200, 200, 503, 503, 503]);
      const refused = responses.find((response) => response.statusCode === 503);
      expect(refused?.headers['retry-after']).toBe('60');
      expect(refused?.json()).toMatchObject({
        status: 503,
        title: 'Service Unavailable',
        detail:
          'too many reports at once: 2 being built and 1 waiting (REPORT_CONCURRENCY, REPORT_QUEUE); retry in 60 s',
      });
      // Every slot is free again.
      expect(
        (await Promise.all([report(busy), report(busy), report(busy)])).map((r) => r.statusCode),
      ).toEqual([200, 200, 200]);
    },
  );
});
