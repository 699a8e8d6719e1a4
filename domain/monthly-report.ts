import { DateTime } from 'luxon';

/**
 * The monthly report (seed 004: 每月5日前完成上月数据统计): on the 1st at 08:00 business time the
 * previous month's summary report is produced and delivered to the managers (售后经理); one not
 * delivered by the end of the 5th — a calendar day, as the seed counts it, in the business time
 * zone — escalates once to the director (售后总监, the managers' superior). Pure, so the workflow,
 * the API and the tests share it.
 */

/** `YYYY-MM`: a month of the business calendar. */
export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The first month a report may be asked for: PostgreSQL's instants and the business began long after year 0. */
export const EARLIEST_MONTH = '2000-01';
/** A month from EARLIEST_MONTH on: `MONTH_PATTERN` with a year of 2000 or later. */
export const REPORTABLE_MONTH = /^[2-9]\d{3}-(0[1-9]|1[0-2])$/;

/** The day of the following month by whose end the report must be delivered. */
export const MONTHLY_REPORT_DUE_DAY = 5;

/** When the Schedule fires: the 1st, 08:00 business time. */
export const MONTHLY_REPORT_FIRES_AT = { dayOfMonth: 1, hour: 8 } as const;

/** Who receives the report, and who hears when it is late. */
export const MONTHLY_REPORT_RECIPIENT = 'manager';
export const MONTHLY_REPORT_ESCALATION = 'director';

/** Notification kinds (ticketless, like the low-stock notice). */
export const MONTHLY_REPORT_READY = 'monthly_report_ready';
export const MONTHLY_REPORT_OVERDUE = 'monthly_report_overdue';

/** The month before the one `instantMs` falls in, in `timeZone`. */
export function previousMonth(instantMs: number, timeZone: string): string {
  return DateTime.fromMillis(instantMs, { zone: timeZone }).minus({ months: 1 }).toFormat('yyyy-MM');
}

/** The month `instantMs` falls in, in `timeZone`. */
export function monthOf(instantMs: number, timeZone: string): string {
  return DateTime.fromMillis(instantMs, { zone: timeZone }).toFormat('yyyy-MM');
}

function firstDay(month: string, timeZone: string): DateTime {
  if (!MONTH_PATTERN.test(month)) throw new RangeError(`month: "${month}" is not a month "YYYY-MM"`);
  return DateTime.fromFormat(month, 'yyyy-MM', { zone: timeZone }).startOf('month');
}

/** The month's first and last day (`YYYY-MM-DD`, both included) and the instants around them. */
export function monthPeriod(month: string, timeZone: string) {
  const start = firstDay(month, timeZone);
  const next = start.plus({ months: 1 });
  return {
    from: start.toISODate() ?? '',
    to: next.minus({ days: 1 }).toISODate() ?? '',
    fromInstant: start.toUTC().toISO() ?? '',
    toInstant: next.toUTC().toISO() ?? '',
    timeZone,
  };
}

/** The instant the month's report is overdue: the end of the 5th of the following month. */
export function monthlyReportDueAtMs(month: string, timeZone: string): number {
  return firstDay(month, timeZone).plus({ months: 1, days: MONTHLY_REPORT_DUE_DAY }).toMillis();
}

/**
 * Whether a run started at `startedMs` keeps the deadline: only one started before it. A backfill of
 * a month whose 5th has passed produces and delivers the report without escalating anyone.
 */
export function keepsDeadline(month: string, timeZone: string, startedMs: number): boolean {
  return startedMs < monthlyReportDueAtMs(month, timeZone);
}

/**
 * The Schedule's runs have ids `<schedule workflow id>-<nominal time, RFC 3339>`; the nominal time
 * (not when the run actually started: a backfill starts now for a past 1st) says which month is
 * due. Undefined for an id without one.
 */
export function nominalTimeOf(workflowId: string): number | undefined {
  const match = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/.exec(workflowId);
  return match?.[1] === undefined ? undefined : Date.parse(match[1]);
}

/** Where the report is read: the stored JSON, and the same as CSV and SVG. */
export function monthlyReportLinks(month: string) {
  const json = `/v1/reports/monthly/${month}`;
  return { json, csv: `${json}?format=csv`, svg: `${json}?format=svg` };
}

/**
 * The webhook event a subscription names to receive each month's report (`eventTypes` listing
 * `monthly_report_ready`; not `*`, which stays the tickets' timeline events). Its delivery id says
 * which month: `wh:<subscription>:monthly-report:<month>`.
 */
export const MONTHLY_REPORT_WEBHOOK_EVENT = MONTHLY_REPORT_READY;

/** The month a monthly report webhook delivery is about, or undefined for any other delivery. */
export function monthOfWebhookDelivery(deliveryId: string): string | undefined {
  const month = /^wh:[^:]+:monthly-report:(.+)$/.exec(deliveryId)?.[1];
  return month !== undefined && MONTH_PATTERN.test(month) ? month : undefined;
}

/** What the managers' notice says (the notification's data). */
export interface MonthlyReportReadyNotice {
  readonly month: string;
  readonly links: ReturnType<typeof monthlyReportLinks>;
}

/** What the director's notice says when the 5th passed without the report delivered. */
export interface MonthlyReportOverdueNotice {
  readonly month: string;
  readonly dueAt: string;
  /** Whether the report was produced at all (then only its delivery is late). */
  readonly produced: boolean;
}
