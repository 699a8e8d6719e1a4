import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './client';
import { buildPartsReport, type PartsReport } from './parts-store';
import { runReport, type ReportQuery } from './report-run';

/**
 * The after-sales KPIs of SPEC 1.14 for the tickets created in a period, computed in SQL over the
 * projection (the tickets' state, their timeline and escalations). Cancelled tickets count in the
 * totals but not in SLA compliance or completion.
 */
export const CSAT_DIMENSIONS = [
  'responsiveness',
  'professionalism',
  'attitude',
  'resolution',
  'overall',
  'recommend',
] as const;

export interface SummaryReport {
  period: { from: string; to: string; timeZone: string };
  tickets: {
    total: number;
    byStatus: Record<string, number>;
    byCategory: Record<string, number>;
    byPriority: Record<string, number>;
    byChannel: Record<string, number>;
  };
  firstResponse: {
    averageSeconds: number | null;
    p90Seconds: number | null;
    compliancePercent: number | null;
  };
  resolution: { compliancePercent: number | null };
  averageSecondsToOnSite: number | null;
  completionRatePercent: number | null;
  firstTimeFixRatePercent: number | null;
  repeatRepairRatePercent: number | null;
  csat: { callbacks: number } & Record<(typeof CSAT_DIMENSIONS)[number], number | null>;
  csatTrend: { date: string; overall: number }[];
  escalations: { total: number; byLevel: Record<string, number>; byReason: Record<string, number> };
  topCauses: { cause: string; count: number }[];
  costs: { averagePartsCost: number | null; averageVisitCost: number | null };
  /** The parts report's figures for the period (`GET /v1/reports/parts`), its top parts cut to five. */
  parts: Pick<PartsReport, 'issued' | 'averagePartsCostPerTicket' | 'stockOuts' | 'topConsumed'>;
}

/** How many of the parts report's top consumed parts the summary shows. */
export const SUMMARY_TOP_PARTS = 5;

const num = (value: unknown, digits: number): number | null =>
  value === null || value === undefined ? null : Number(Number(value).toFixed(digits));
const percent = (part: unknown, whole: unknown): number | null =>
  Number(whole) > 0 ? Number(((Number(part) / Number(whole)) * 100).toFixed(1)) : null;

/**
 * The KPIs of SPEC 1.14 for the tickets created in the period, and the parts report's figures for
 * the same period, in one snapshot and one time budget.
 */
export async function summaryReport(
  db: Database,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
  { timeoutMs }: { readonly timeoutMs: number },
): Promise<SummaryReport> {
  return runReport(db, timeoutMs, async (rows) => {
    const kpis = await buildReport(rows, period);
    const parts = await buildPartsReport(rows, period);
    return {
      ...kpis,
      parts: {
        issued: parts.issued,
        averagePartsCostPerTicket: parts.averagePartsCostPerTicket,
        stockOuts: parts.stockOuts,
        topConsumed: parts.topConsumed.slice(0, SUMMARY_TOP_PARTS),
      },
    };
  });
}

async function buildReport(
  rows: ReportQuery,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
): Promise<Omit<SummaryReport, 'parts'>> {
  const inPeriod = sql`t.created_at >= ${period.fromInstant}::timestamptz and t.created_at < ${period.toInstant}::timestamptz`;
  const grouped = async (column: SQL) =>
    Object.fromEntries(
      (
        await rows<{ key: string; n: number }>(
          sql`select ${column} as key, count(*)::int as n from tickets t where ${inPeriod} group by 1 order by 1`,
        )
      ).map((row) => [row.key, row.n]),
    );
  const clock = (name: string, field: string) => sql.raw(`(t.state->'clocks'->'${name}'->>'${field}')`);
  const metAt = (name: string) => sql`${clock(name, 'metAt')}::timestamptz`;
  const dueAt = (name: string) => sql`${clock(name, 'dueAt')}::timestamptz`;
  const breached = (name: string) => sql`${clock(name, 'breachedAt')} is not null`;

  const byStatus = await grouped(sql`t.status`);
  const byCategory = await grouped(sql`t.category`);
  const byPriority = await grouped(sql`t.priority`);
  const byChannel = await grouped(sql`t.channel`);
  const [figures] = await rows<Record<string, unknown>>(sql`
    with open_sla as (select * from tickets t where ${inPeriod} and t.status <> 'cancelled'),
    onsite as (
      select e.ticket_number, min(e.at) as at from ticket_events e
      join tickets t on t.number = e.ticket_number
      where ${inPeriod} and e.type = 'service_started' group by e.ticket_number
    ),
    serviced as (
      select t.number,
        jsonb_array_length(t.state->'serviceRecords') as records,
        (t.state->>'reservices')::int as reservices,
        (select coalesce(sum((e.data->>'partsCost')::numeric), 0) from ticket_events e
          where e.ticket_number = t.number and e.type = 'resolved') as parts_cost,
        (select coalesce(sum((e.data->>'visitCost')::numeric), 0) from ticket_events e
          where e.ticket_number = t.number and e.type = 'resolved') as visit_cost
      from tickets t where ${inPeriod} and jsonb_array_length(t.state->'serviceRecords') > 0
    )
    select
      (select count(*)::int from tickets t where ${inPeriod}) as total,
      (select avg(extract(epoch from ${metAt('firstResponse')} - t.created_at)) from open_sla t
        where ${clock('firstResponse', 'metAt')} is not null) as fr_avg,
      (select percentile_cont(0.9) within group (order by extract(epoch from ${metAt('firstResponse')} - t.created_at))
        from open_sla t where ${clock('firstResponse', 'metAt')} is not null) as fr_p90,
      (select count(*) from open_sla t where ${metAt('firstResponse')} <= ${dueAt('firstResponse')}
        and not ${breached('firstResponse')}) as fr_in_time,
      (select count(*) from open_sla t where ${breached('firstResponse')}
        or ${metAt('firstResponse')} > ${dueAt('firstResponse')}) as fr_missed,
      (select count(*) from open_sla t where ${metAt('resolution')} <= ${dueAt('resolution')}
        and not ${breached('resolution')}) as res_in_time,
      (select count(*) from open_sla t where ${breached('resolution')}
        or ${metAt('resolution')} > ${dueAt('resolution')}) as res_missed,
      (select avg(extract(epoch from o.at - t.created_at)) from onsite o join tickets t on t.number = o.ticket_number)
        as onsite_avg,
      (select count(*) from open_sla t where t.status in ('resolved', 'follow_up', 'closed')) as completed,
      (select count(*) from open_sla t) as not_cancelled,
      (select count(*) from serviced where records = 1 and reservices = 0) as first_time_fixed,
      (select count(*) from serviced) as serviced,
      (select count(*) from tickets t where ${inPeriod}
        and (t.state->>'repeatOf' is not null or (t.state->>'reservices')::int > 0)) as repeats,
      (select avg(parts_cost) from serviced) as parts_avg,
      (select avg(visit_cost) from serviced) as visit_avg
  `);
  const csatRows = await rows<Record<string, unknown>>(sql`
    select count(*)::int as callbacks,
      ${sql.join(
        CSAT_DIMENSIONS.map((dimension) =>
          sql.raw(`avg((cb->'input'->'scores'->>'${dimension}')::numeric) as "${dimension}"`),
        ),
        sql`, `,
      )}
    from tickets t, jsonb_array_elements(t.state->'callbacks') cb where ${inPeriod}
  `);
  const trend = await rows<{ date: string; overall: unknown }>(sql`
    select to_char(((cb->>'at')::timestamptz at time zone ${period.timeZone}), 'YYYY-MM-DD') as date,
      avg((cb->'input'->'scores'->>'overall')::numeric) as overall
    from tickets t, jsonb_array_elements(t.state->'callbacks') cb where ${inPeriod}
    group by 1 order by 1
  `);
  const escalationRows = await rows<{ level: number; reason: string; n: number }>(sql`
    select x.level::int as level, x.reason, count(*)::int as n
    from escalations x join tickets t on t.number = x.ticket_number where ${inPeriod}
    group by 1, 2 order by 1, 2
  `);
  const causes = await rows<{ cause: string; n: number }>(sql`
    select e.data->>'rootCause' as cause, count(*)::int as n
    from ticket_events e join tickets t on t.number = e.ticket_number
    where ${inPeriod} and e.type = 'resolved' and e.data->>'rootCause' is not null
    group by 1 order by 2 desc, 1 asc limit 10
  `);
  const f = figures ?? {};
  const csat = csatRows[0] ?? {};
  const sum = (key: 'level' | 'reason') =>
    escalationRows.reduce<Record<string, number>>((totals, row) => {
      totals[String(row[key])] = (totals[String(row[key])] ?? 0) + row.n;
      return totals;
    }, {});
  return {
    period: { from: period.from, to: period.to, timeZone: period.timeZone },
    tickets: { total: Number(f.total ?? 0), byStatus, byCategory, byPriority, byChannel },
    firstResponse: {
      averageSeconds: num(f.fr_avg, 1),
      p90Seconds: num(f.fr_p90, 1),
      compliancePercent: percent(f.fr_in_time, Number(f.fr_in_time) + Number(f.fr_missed)),
    },
    resolution: { compliancePercent: percent(f.res_in_time, Number(f.res_in_time) + Number(f.res_missed)) },
    averageSecondsToOnSite: num(f.onsite_avg, 1),
    completionRatePercent: percent(f.completed, f.not_cancelled),
    firstTimeFixRatePercent: percent(f.first_time_fixed, f.serviced),
    repeatRepairRatePercent: percent(f.repeats, f.total),
    csat: {
      callbacks: Number(csat.callbacks ?? 0),
      ...(Object.fromEntries(
        CSAT_DIMENSIONS.map((dimension) => [dimension, num(csat[dimension], 2)]),
      ) as Record<(typeof CSAT_DIMENSIONS)[number], number | null>),
    },
    csatTrend: trend.map((row) => ({ date: row.date, overall: num(row.overall, 2) ?? 0 })),
    escalations: {
      total: escalationRows.reduce((total, row) => total + row.n, 0),
      byLevel: sum('level'),
      byReason: sum('reason'),
    },
    topCauses: causes.map((row) => ({ cause: row.cause, count: row.n })),
    costs: { averagePartsCost: num(f.parts_avg, 2), averageVisitCost: num(f.visit_avg, 2) },
  };
}
