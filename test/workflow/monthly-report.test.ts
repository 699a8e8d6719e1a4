import { randomInt } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { overdueKey, readyKey } from '../../db/monthly-report-store';
import { deliveries, monthlyReports, notifications } from '../../db/schema';
import { KPI_TARGETS } from '../../domain/kpi';
import { monthlyReportDueAtMs, monthOf } from '../../domain/monthly-report';
import { monthlyReportWorkflow } from '../../workflows';
import { TEST_PAYLOAD_KEYS } from '../support/fixtures';
import { createOwnDatabase } from '../support/relay';
import { createTimeSkippingEnvironment, runTicketWorker, type RunningWorker } from '../support/temporal';

/**
 * The monthly report's deadline (seed 004: 每月5日前完成上月数据统计) at its real length, on
 * Temporal's time-skipping test server with the real activities on a database of its own: a report
 * whose managers' notice has not gone out by the end of the 5th escalates once to the director.
 */
const TIME_ZONE = 'Asia/Shanghai';
const taskQueue = `monthly-report-${process.pid}-${randomInt(1e6)}`;
const MINUTE = 60_000;
let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let worker: RunningWorker;

beforeAll(async () => {
  const [databaseUrl, testEnv] = await Promise.all([
    createOwnDatabase('monthly_report_clock'),
    createTimeSkippingEnvironment(),
  ]);
  env = testEnv;
  database = connectDatabase(databaseUrl, { max: 4, payloadKeys: TEST_PAYLOAD_KEYS });
  worker = await runTicketWorker(env, taskQueue, database.db);
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await database?.close();
});

function start(month: string, id = `monthly-${month}-${randomInt(1e9)}`) {
  return env.client.workflow.start(monthlyReportWorkflow, {
    workflowId: id,
    taskQueue,
    args: [{ timeZone: TIME_ZONE, targets: KPI_TARGETS, month }],
  });
}

const noticesOf = (month: string) =>
  database.db
    .select({ key: notifications.key, role: notifications.recipientRole, data: notifications.data })
    .from(notifications)
    .where(like(notifications.key, `monthly-report:${month}:%`))
    .orderBy(notifications.key);

/** Until the run has produced the month (time does not skip while the test waits on the database). */
async function produced(month: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const rows = await database.db.select().from(monthlyReports).where(eq(monthlyReports.month, month));
      expect(rows).toHaveLength(1);
    },
    { timeout: 30_000, interval: 100 },
  );
}

/** The runs' outcomes once they have ended, waiting in real time (the clock was moved by `env.sleep`). */
async function finished(...handles: WorkflowHandle<typeof monthlyReportWorkflow>[]) {
  await vi.waitFor(
    async () => {
      for (const handle of handles) expect((await handle.describe()).status.name).toBe('COMPLETED');
    },
    { timeout: 30_000, interval: 100 },
  );
  // One after another: the test client's `result()` unlocks time skipping, awaits, and locks it
  // again, and two of those interleaved can leave the server's lock count one too high, after which
  // time never skips again (the next test's `env.sleep` then waits in real time).
  const outcomes = [];
  for (const handle of handles) outcomes.push(await handle.result());
  return outcomes;
}

describe('the monthly report deadline (the end of the 5th, business time)', () => {
  it('escalates once to the director when the managers were not reached by then, however many runs of the month', async () => {
    const now = await env.currentTimeMs();
    const month = monthOf(now, TIME_ZONE);
    const dueAtMs = monthlyReportDueAtMs(month, TIME_ZONE);
    const [first, second] = [await start(month), await start(month)];
    await produced(month);
    expect((await noticesOf(month)).map((notice) => notice.key)).toEqual([readyKey(month)]);

    // A minute before the deadline nobody has been told it is late.
    await env.sleep(dueAtMs - (await env.currentTimeMs()) - MINUTE);
    expect((await noticesOf(month)).map((notice) => notice.key)).toEqual([readyKey(month)]);

    await env.sleep(2 * MINUTE);
    const outcomes = await finished(first, second);
    expect(outcomes.map((outcome) => outcome.deadline)).toEqual(['missed', 'missed']);
    // One report: the first run to get there produced it, the other left it as it was.
    expect(outcomes.map((outcome) => outcome.producedNow).sort()).toEqual([false, true]);
    expect(await noticesOf(month)).toEqual([
      { key: readyKey(month), role: 'manager', data: expect.objectContaining({ month }) },
      {
        key: overdueKey(month),
        role: 'director',
        data: { month, dueAt: new Date(dueAtMs).toISOString(), produced: true },
      },
    ]);
    const [row] = await database.db.select().from(monthlyReports).where(eq(monthlyReports.month, month));
    expect(row?.escalatedAt).not.toBeNull();
  }, 120_000);

  it('escalates no one when the managers were reached before the 5th passed', async () => {
    const now = await env.currentTimeMs();
    // A month whose deadline is still ahead of the test server's clock, whatever the first test did.
    const month = monthOf(now + 40 * 24 * 60 * MINUTE, TIME_ZONE);
    const handle = await start(month);
    await produced(month);
    await database.db
      .update(deliveries)
      .set({ status: 'delivered', deliveredAt: sql`now()` })
      .where(eq(deliveries.id, readyKey(month)));
    await env.sleep(monthlyReportDueAtMs(month, TIME_ZONE) - (await env.currentTimeMs()) + MINUTE);
    expect(await finished(handle)).toEqual([{ month, producedNow: true, deadline: 'met' }]);
    expect((await noticesOf(month)).map((notice) => notice.key)).toEqual([readyKey(month)]);
  }, 120_000);
});
