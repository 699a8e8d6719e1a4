import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { RECIPIENT_PURPOSE } from '../../db/delivery-store';
import { readyKey } from '../../db/monthly-report-store';
import { KPI_TARGETS } from '../../domain/kpi';
import { monthPeriod } from '../../domain/monthly-report';
import { connectNativeConnection } from '../../temporal/connection';
import { MONTHLY_REPORT_SCHEDULE_ID } from '../../temporal/monthly-report';
import { DELIVERY_HEADER, EVENT_HEADER } from '../../notify/webhook';
import { createTicketWorker } from '../../worker/worker';
import { testDataConverter } from '../support/fixtures';
import { createOwnDatabase, runRelayFor } from '../support/relay';
import { startApi, type ApiStack } from '../support/stack';
import { createOwnNamespace } from '../support/temporal';

/**
 * The monthly report on the real stack (seed 004: 每月5日前完成上月数据统计): the Schedule the worker
 * creates at start, its backfill, and the admin endpoint; the report produced once per month and the
 * managers' notice delivered by the relay with links to the JSON, CSV and SVG. A database and a
 * namespace of its own: months and the Schedule are global to them.
 */
const tag = `${process.pid}-${randomInt(1e6)}`;
const TIME_ZONE = 'Asia/Shanghai';
const KEYS = {
  manager: `monthly-manager-${tag}`,
  agent: `monthly-agent-${tag}`,
  qc: `monthly-qc-${tag}`,
};
let stack: ApiStack;
let connection: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let stopRelay: () => Promise<void>;
let receiver: Server;
let receiverUrl: string;
const received: { deliveryId: string; event: string; body: Record<string, unknown> }[] = [];

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The month `back` months before this one, in the business time zone. */
const monthsAgo = (back: number) =>
  DateTime.now().setZone(TIME_ZONE).minus({ months: back }).toFormat('yyyy-MM');

beforeAll(async () => {
  receiver = createServer(async (request, response) => {
    const body = await readBody(request);
    received.push({
      deliveryId: String(request.headers[DELIVERY_HEADER]),
      event: String(request.headers[EVENT_HEADER]),
      body: JSON.parse(body) as Record<string, unknown>,
    });
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  const [databaseUrl, namespace] = await Promise.all([
    createOwnDatabase('monthly_report'),
    createOwnNamespace('monthly-report'),
  ]);
  stack = await startApi({
    taskQueue: `monthly-report-${tag}`,
    policy: { timeZone: TIME_ZONE },
    env: {
      DATABASE_URL: databaseUrl,
      TEMPORAL_NAMESPACE: namespace,
      API_KEYS: `${KEYS.manager}:manager:mgr-1,${KEYS.agent}:agent:agent-1,${KEYS.qc}:qc:qc-1`,
    },
  });
  const { config } = stack;
  connection = await connectNativeConnection(config.temporal);
  client = new Client({ connection, namespace, dataConverter: testDataConverter });
  // As worker/main.ts starts it.
  worker = await createTicketWorker({
    connection,
    namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter: testDataConverter,
    dependencies: { db: stack.database.db },
    workflowBundlePath: inject('workflowBundlePath'),
    monthlyReport: { timeZone: TIME_ZONE, targets: KPI_TARGETS },
  });
  running = worker.run();
  stopRelay = await runRelayFor(config, stack.database.db);
});

afterAll(async () => {
  await stopRelay?.();
  worker?.shutdown();
  await running;
  await connection?.close();
  await stack?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

function call(who: keyof typeof KEYS, method: 'GET' | 'POST', url: string, payload?: object) {
  return stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${KEYS[who]}` } });
}

/** The month's stored report, once its run has produced it and the relay has delivered its notice. */
async function deliveredReport(month: string) {
  return vi.waitFor(
    async () => {
      const response = await call('qc', 'GET', `/v1/reports/monthly/${month}`);
      expect(response.statusCode).toBe(200);
      expect(response.json().deliveredAt).not.toBeNull();
      return response.json();
    },
    { timeout: 30_000, interval: 200 },
  );
}

async function countsOf(month: string) {
  const [row] = await stack.database.db.execute<{ reports: number; notices: number }>(sql`
    select (select count(*) from monthly_reports where month = ${month})::int as reports,
           (select count(*) from notifications where key like ${`monthly-report:${month}:%`})::int as notices`);
  return row;
}

describe('the monthly report Schedule', () => {
  it('exists after the worker starts as aftercare-monthly-report: the 1st at 08:00 business time', async () => {
    const description = await client.schedule.getHandle(MONTHLY_REPORT_SCHEDULE_ID).describe();
    // The server keeps the cron expression "0 8 1 * *" as a calendar.
    expect(description.spec.calendars).toEqual([
      expect.objectContaining({
        dayOfMonth: [{ start: 1, end: 1, step: 1 }],
        hour: [{ start: 8, end: 8, step: 1 }],
        minute: [{ start: 0, end: 0, step: 1 }],
      }),
    ]);
    expect(description.spec.timezone).toBe(TIME_ZONE);
    expect(description.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'monthlyReportWorkflow',
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ timeZone: TIME_ZONE, targets: KPI_TARGETS }],
    });
    expect(description.policies.overlap).toBe('ALLOW_ALL');
  });

  it('backfills past 1sts: each run reports the month before its 1st, once however often it is run', async () => {
    const month = monthsAgo(4);
    const firstOfNext = DateTime.fromFormat(month, 'yyyy-MM', { zone: TIME_ZONE }).plus({ months: 1 });
    const fire = firstOfNext.set({ hour: 8 }).toJSDate();
    const window = { start: new Date(fire.getTime() - 60_000), end: new Date(fire.getTime() + 60_000) };
    const schedule = client.schedule.getHandle(MONTHLY_REPORT_SCHEDULE_ID);
    await schedule.backfill([{ ...window, overlap: ScheduleOverlapPolicy.ALLOW_ALL }]);
    const report = await deliveredReport(month);
    const { from, to } = monthPeriod(month, TIME_ZONE);
    expect(report.period).toEqual({ from, to, timeZone: TIME_ZONE });
    // The same 1st again: a second run, the first report stands.
    await schedule.backfill([{ ...window, overlap: ScheduleOverlapPolicy.ALLOW_ALL }]);
    await vi.waitFor(
      async () => {
        const runs = (await schedule.describe()).info.recentActions;
        expect(runs.length).toBeGreaterThanOrEqual(2);
        for (const run of runs) await client.workflow.getHandle(run.action.workflow.workflowId).result();
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(await countsOf(month)).toEqual({ reports: 1, notices: 1 });
  });
});

describe('POST /v1/reports/monthly/{month}', () => {
  it("produces a past month's report once and delivers it to the managers with links to JSON, CSV and SVG", async () => {
    const month = monthsAgo(2);
    const subscribed = await call('manager', 'POST', '/v1/webhooks', {
      url: receiverUrl,
      eventTypes: ['monthly_report_ready'],
      secret: 'monthly-report-secret-0001',
    });
    expect(subscribed.statusCode).toBe(201);
    const started = await call('manager', 'POST', `/v1/reports/monthly/${month}`);
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({
      month,
      workflowId: `monthly-report-${month}`,
      started: true,
      links: { json: `/v1/reports/monthly/${month}` },
    });
    const stored = await deliveredReport(month);
    const { from, to } = monthPeriod(month, TIME_ZONE);
    expect(stored).toMatchObject({ month, period: { from, to, timeZone: TIME_ZONE }, escalatedAt: null });
    // The figures are the summary report's for the month.
    const summary = await call('qc', 'GET', `/v1/reports/summary?from=${from}&to=${to}`);
    expect(stored.report).toEqual(summary.json());
    const csv = await call('qc', 'GET', `/v1/reports/monthly/${month}?format=csv`);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toContain(from);
    const svg = await call('qc', 'GET', `/v1/reports/monthly/${month}?format=svg`);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toContain('<svg');

    const [message] = await stack.database.db.execute<{ recipient: string; subject: string; body: string }>(
      sql`select recipient, subject, body from outbox_messages where delivery_id = ${readyKey(month)}`,
    );
    expect(stack.database.db.$cipher.open(message?.recipient ?? '', RECIPIENT_PURPOSE)).toBe('role:manager');
    expect(message?.subject).toBe(`${month} 售后数据统计分析表`);
    for (const link of Object.values(stored.links as Record<string, string>))
      expect(message?.body).toContain(link);

    // Subscribers to monthly_report_ready hear of it too.
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 15_000, interval: 100 });
    expect(received[0]).toEqual({
      deliveryId: `wh:${subscribed.json().id}:monthly-report:${month}`,
      event: 'monthly_report_ready',
      body: {
        deliveryId: `wh:${subscribed.json().id}:monthly-report:${month}`,
        type: 'monthly_report_ready',
        report: { month, links: stored.links },
      },
    });

    // Again, once its run is done: nothing new.
    await client.workflow.getHandle(`monthly-report-${month}`).result();
    const again = await call('manager', 'POST', `/v1/reports/monthly/${month}`);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ month, started: false });
    expect(await countsOf(month)).toEqual({ reports: 1, notices: 1 });
    expect(received).toHaveLength(1);
  });

  it('refuses a month that is not one (400) or not over yet (409), naming params.month; a month not produced is 404', async () => {
    const bad = await call('manager', 'POST', '/v1/reports/monthly/2026-13');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('params.month');
    const ancient = await call('manager', 'POST', '/v1/reports/monthly/0000-01');
    expect(ancient.statusCode).toBe(400);
    expect(ancient.json().detail).toBe('params.month: must be a month "YYYY-MM" from 2000-01');
    const current = await call('manager', 'POST', `/v1/reports/monthly/${monthsAgo(0)}`);
    expect(current.statusCode).toBe(409);
    expect(current.json().detail).toBe(
      `params.month: ${monthsAgo(0)} is not over yet in ${TIME_ZONE}; only a past month can be reported`,
    );
    expect((await call('qc', 'GET', `/v1/reports/monthly/${monthsAgo(30)}`)).statusCode).toBe(404);
    expect(await countsOf(monthsAgo(0))).toEqual({ reports: 0, notices: 0 });
  });

  it('is for managers, the director and admins; an agent or QC is 403', async () => {
    expect((await call('agent', 'POST', `/v1/reports/monthly/${monthsAgo(3)}`)).statusCode).toBe(403);
    expect((await call('qc', 'POST', `/v1/reports/monthly/${monthsAgo(3)}`)).statusCode).toBe(403);
    expect(await countsOf(monthsAgo(3))).toEqual({ reports: 0, notices: 0 });
  });
});
