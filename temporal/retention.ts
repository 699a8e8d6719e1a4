import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import type { RetentionSettings } from '../config';
import type { retentionWorkflow } from '../workflows';

/**
 * The retention Schedule: at RETENTION_SCHEDULE (a cron expression in the business time zone, or an
 * interval) it starts `retentionWorkflow`, whose activity anonymises finished tickets older than
 * RETENTION_CLOSED_TICKETS, deletes lapsed Idempotency-Key claims and deliveries older than
 * RETENTION_DELIVERIES. A run still going when the next is due makes the next one skip.
 */
export const RETENTION_SCHEDULE_ID = 'aftercare-retention';

export function retentionSchedule(
  taskQueue: string,
  settings: RetentionSettings,
  timeZone: string,
): Omit<ScheduleOptions, 'scheduleId'> {
  const spec: ScheduleSpec =
    'cron' in settings.schedule
      ? { cronExpressions: [settings.schedule.cron], timezone: timeZone }
      : { intervals: [{ every: settings.schedule.everyMs }] };
  return {
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: 'retentionWorkflow',
      workflowId: RETENTION_SCHEDULE_ID,
      taskQueue,
      args: [
        { closedTicketsMs: settings.closedTicketsMs, deliveriesMs: settings.deliveriesMs },
      ] satisfies Parameters<typeof retentionWorkflow>,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
}

/**
 * Creates the Schedule, or brings an existing one to the configured times and ages (every worker
 * does this at start: the last one started wins, and they all read the same configuration).
 */
export async function ensureRetentionSchedule(
  client: Client,
  taskQueue: string,
  settings: RetentionSettings,
  timeZone: string,
): Promise<void> {
  const options = retentionSchedule(taskQueue, settings, timeZone);
  try {
    await client.schedule.create({ scheduleId: RETENTION_SCHEDULE_ID, ...options });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(RETENTION_SCHEDULE_ID).update((previous) => ({
      ...options,
      state: { paused: previous.state.paused, note: previous.state.note },
    }));
  }
}
