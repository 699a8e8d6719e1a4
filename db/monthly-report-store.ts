import { eq, sql } from 'drizzle-orm';
import type { KpiTargets } from '../domain/kpi';
import {
  MONTHLY_REPORT_ESCALATION,
  MONTHLY_REPORT_OVERDUE,
  MONTHLY_REPORT_READY,
  MONTHLY_REPORT_RECIPIENT,
  MONTHLY_REPORT_WEBHOOK_EVENT,
  monthlyReportLinks,
  monthPeriod,
  type MonthlyReportOverdueNotice,
  type MonthlyReportReadyNotice,
} from '../domain/monthly-report';
import type { Database, Transaction } from './client';
import { DELIVERY_CHANNEL } from './delivery-store';
import { summaryReport, type SummaryReport } from './report-store';
import { deliveries, monthlyReports, notifications } from './schema';

/** The deliveries (and notification keys) of a month's report: to the managers, and the late notice. */
export const readyKey = (month: string) => `monthly-report:${month}:${MONTHLY_REPORT_RECIPIENT}`;
export const overdueKey = (month: string) => `monthly-report:${month}:overdue`;

export interface StoredMonthlyReport {
  readonly month: string;
  readonly period: { readonly from: string; readonly to: string; readonly timeZone: string };
  readonly report: SummaryReport;
  readonly producedAt: string;
  readonly escalatedAt: string | null;
  /** When the managers' notice went out; null while it waits in the outbox. */
  readonly deliveredAt: string | null;
}

/** Queues one ticketless notification in the outbox, once per key; whether it was queued now. */
async function queueNotice(
  tx: Transaction,
  notice: { key: string; kind: string; role: string; data: object },
): Promise<boolean> {
  const inserted = await tx
    .insert(notifications)
    .values({
      key: notice.key,
      ticketNumber: null,
      kind: notice.kind,
      recipientRole: notice.role,
      channel: 'internal',
      at: new Date().toISOString(),
      data: { ...notice.data },
    })
    .onConflictDoNothing()
    .returning({ key: notifications.key });
  if (inserted.length === 0) return false;
  await tx
    .insert(deliveries)
    .values({ id: notice.key, ticketNumber: null, version: 0, kind: 'notification', channel: 'internal' });
  await tx.execute(sql`select pg_notify(${DELIVERY_CHANNEL}, '')`);
  return true;
}

/**
 * Produces the month's report and queues the managers' notice, once per month: a month already
 * produced is left as it was (the first report stands). Whether it was produced now.
 */
export async function produceMonthlyReport(
  db: Database,
  request: { month: string; timeZone: string; targets: KpiTargets; timeoutMs: number },
): Promise<boolean> {
  const [existing] = await db
    .select({ month: monthlyReports.month })
    .from(monthlyReports)
    .where(eq(monthlyReports.month, request.month));
  if (existing) return false;
  const period = monthPeriod(request.month, request.timeZone);
  const report = await summaryReport(db, period, { timeoutMs: request.timeoutMs, targets: request.targets });
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(monthlyReports)
      .values({
        month: request.month,
        periodFrom: period.from,
        periodTo: period.to,
        timeZone: request.timeZone,
        report,
      })
      .onConflictDoNothing()
      .returning({ month: monthlyReports.month });
    if (inserted.length === 0) return false;
    const data: MonthlyReportReadyNotice = { month: request.month, links: monthlyReportLinks(request.month) };
    await queueNotice(tx, {
      key: readyKey(request.month),
      kind: MONTHLY_REPORT_READY,
      role: MONTHLY_REPORT_RECIPIENT,
      data,
    });
    // One webhook delivery per active subscription that names the event (the relay sends it).
    await tx.execute(sql`
      insert into deliveries (id, ticket_number, version, kind, channel, subscription_id)
      select 'wh:' || s.id || ':monthly-report:' || ${request.month}, null, 0, 'webhook', 'webhook', s.id
      from webhook_subscriptions s
      where s.active and s.event_types ? ${MONTHLY_REPORT_WEBHOOK_EVENT}
      on conflict do nothing`);
    return true;
  });
}

/** Whether the managers' notice of the month's report has gone out. */
export async function monthlyReportDelivered(db: Database, month: string): Promise<boolean> {
  const [row] = await db
    .select({ status: deliveries.status })
    .from(deliveries)
    .where(eq(deliveries.id, readyKey(month)));
  return row?.status === 'delivered';
}

/**
 * Tells the director the month's report was not delivered by the 5th, once per month however many
 * runs of that month reach the deadline; whether the notice was queued now.
 */
export async function escalateMonthlyReport(
  db: Database,
  notice: Omit<MonthlyReportOverdueNotice, 'produced'>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [produced] = await tx
      .update(monthlyReports)
      .set({ escalatedAt: sql`coalesce(${monthlyReports.escalatedAt}, now())` })
      .where(eq(monthlyReports.month, notice.month))
      .returning({ month: monthlyReports.month });
    const data: MonthlyReportOverdueNotice = { ...notice, produced: produced !== undefined };
    return queueNotice(tx, {
      key: overdueKey(notice.month),
      kind: MONTHLY_REPORT_OVERDUE,
      role: MONTHLY_REPORT_ESCALATION,
      data,
    });
  });
}

/** The month's stored report with its delivery, if it was produced. */
export async function findMonthlyReport(
  db: Database,
  month: string,
): Promise<StoredMonthlyReport | undefined> {
  const [row] = await db
    .select({ report: monthlyReports, deliveredAt: deliveries.deliveredAt })
    .from(monthlyReports)
    .leftJoin(deliveries, eq(deliveries.id, readyKey(month)))
    .where(eq(monthlyReports.month, month));
  if (!row) return undefined;
  const { report } = row;
  return {
    month: report.month,
    period: { from: report.periodFrom, to: report.periodTo, timeZone: report.timeZone },
    report: report.report,
    producedAt: new Date(report.producedAt).toISOString(),
    escalatedAt: report.escalatedAt === null ? null : new Date(report.escalatedAt).toISOString(),
    deliveredAt: row.deliveredAt === null ? null : new Date(row.deliveredAt).toISOString(),
  };
}
