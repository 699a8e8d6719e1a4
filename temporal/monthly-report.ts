import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ScheduleOptions,
} from '@temporalio/client';
import type { KpiTargets } from '../domain/kpi';
import { MONTHLY_REPORT_FIRES_AT } from '../domain/monthly-report';
import type { monthlyReportWorkflow } from '../workflows';

/**
 * The monthly report Schedule, `aftercare-monthly-report` in Temporal UI: on the 1st at 08:00 in the
 * business time zone it starts `monthlyReportWorkflow`, which reports the month before (its run's
 * id ends with the nominal time, so a backfill of past 1sts reports past months). Each month's run
 * is its own (overlap: allow all; a run stays open until its 5th). A 1st missed while Temporal was
 * down is caught up within 5 days, before that month's deadline has passed.
 */
export const MONTHLY_REPORT_SCHEDULE_ID = 'aftercare-monthly-report';

export function monthlyReportSchedule(
  taskQueue: string,
  timeZone: string,
  targets: KpiTargets,
): Omit<ScheduleOptions, 'scheduleId'> {
  const { dayOfMonth, hour } = MONTHLY_REPORT_FIRES_AT;
  return {
    spec: { cronExpressions: [`0 ${hour} ${dayOfMonth} * *`], timezone: timeZone },
    action: {
      type: 'startWorkflow',
      workflowType: 'monthlyReportWorkflow',
      workflowId: MONTHLY_REPORT_SCHEDULE_ID,
      taskQueue,
      args: [{ timeZone, targets }] satisfies Parameters<typeof monthlyReportWorkflow>,
    },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '5 days' },
  };
}

/**
 * Creates the Schedule, or brings an existing one to the configured time zone and targets. Every
 * worker does this at start, as for the retention Schedule: the worker runs the workflow the
 * Schedule starts, on its task queue, and reads the same configuration as every other worker.
 */
export async function ensureMonthlyReportSchedule(
  client: Client,
  taskQueue: string,
  timeZone: string,
  targets: KpiTargets,
): Promise<void> {
  const options = monthlyReportSchedule(taskQueue, timeZone, targets);
  try {
    await client.schedule.create({ scheduleId: MONTHLY_REPORT_SCHEDULE_ID, ...options });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(MONTHLY_REPORT_SCHEDULE_ID).update((previous) => ({
      ...options,
      state: { paused: previous.state.paused, note: previous.state.note },
    }));
  }
}
