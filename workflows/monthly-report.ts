import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { TicketActivities } from '../activities';
import type { KpiTargets } from '../domain/kpi';
import {
  keepsDeadline,
  MONTHLY_REPORT_DUE_DAY,
  monthlyReportDueAtMs,
  nominalTimeOf,
  previousMonth,
} from '../domain/monthly-report';

const { produceMonthlyReport, monthlyReportDelivered, escalateMonthlyReport } =
  proxyActivities<TicketActivities>({
    startToCloseTimeout: '10 minutes',
    // No attempt limit: a report the database cannot produce now is produced when it can, and the
    // deadline (a timer beside it, not after it) escalates meanwhile.
    retry: { initialInterval: '10 seconds', maximumInterval: '10 minutes' },
  });

export interface MonthlyReportInput {
  readonly timeZone: string;
  readonly targets: KpiTargets;
  /** The month to report; absent in the Schedule's runs, which report the month before their 1st. */
  readonly month?: string;
}

export interface MonthlyReportOutcome {
  readonly month: string;
  /** False when an earlier run had produced this month's report already (it stands). */
  readonly producedNow: boolean;
  /** `met`: delivered by the 5th; `missed`: the director was told; `not kept`: started after the 5th. */
  readonly deadline: 'met' | 'missed' | 'not kept';
}

/**
 * One month's report (seed 004): produced and queued to the managers at once, then the deadline —
 * a durable timer to the end of the 5th of the following month — checks that the managers' notice
 * went out, and tells the director once if not. Started by the monthly Schedule
 * (temporal/monthly-report.ts), by its backfill, or by `POST /v1/reports/monthly/{month}`.
 */
export async function monthlyReportWorkflow(input: MonthlyReportInput): Promise<MonthlyReportOutcome> {
  const { timeZone, targets } = input;
  const month =
    input.month ?? previousMonth(nominalTimeOf(workflowInfo().workflowId) ?? Date.now(), timeZone);
  const dueAtMs = monthlyReportDueAtMs(month, timeZone);
  const keeps = keepsDeadline(month, timeZone, Date.now());
  let produced = false;
  const production = produceMonthlyReport({ month, timeZone, targets }).then((now) => {
    produced = true;
    return now;
  });
  if (!keeps) return { month, producedNow: await production, deadline: 'not kept' };
  await sleep(dueAtMs - Date.now(), {
    summary: `${month} report due by the ${MONTHLY_REPORT_DUE_DAY}th`,
  });
  const delivered = produced && (await monthlyReportDelivered(month));
  if (!delivered) await escalateMonthlyReport({ month, dueAt: new Date(dueAtMs).toISOString() });
  return { month, producedNow: await production, deadline: delivered ? 'met' : 'missed' };
}
