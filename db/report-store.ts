import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './client';

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
}

const num = (value: unknown, digits: number): number | null =>
  value === null || value === undefined ? null : Number(Number(value).toFixed(digits));
const percent = (part: unknown, whole: unknown): number | null =>
  Number(whole) > 0 ? Number(((Number(part) / Number(whole)) * 100).toFixed(1)) : null;

/** A report that PostgreSQL cancelled because it ran past its time budget. */
export class ReportTimeoutError extends Error {
  override name = 'ReportTimeoutError';
  constructor(timeoutMs: number, options?: ErrorOptions) {
    super(`the report ran past its ${timeoutMs} ms budget`, options);
  }
}

/** PostgreSQL's query_canceled, which `statement_timeout` raises; drizzle wraps it as the cause. */
function isStatementTimeout(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === '57014') return true;
  }
  return false;
}

/** Runs one of a report's queries within what is left of its time budget. */
export type ReportQuery = <T>(query: SQL) => Promise<T[]>;

/**
 * Builds a report on one connection of the pool, in one read-only snapshot (its figures agree with
 * each other), its queries one after another, within `timeoutMs` overall: before each query
 * `statement_timeout` is set to what is left of the budget, so PostgreSQL itself stops a report
 * that runs long (`ReportTimeoutError`) instead of it holding the connection.
 */
export async function runReport<R>(
  db: Database,
  timeoutMs: number,
  build: (rows: ReportQuery) => Promise<R>,
): Promise<R> {
  const deadline = performance.now() + timeoutMs;
  try {
    return await db.transaction(
      (tx) =>
        build(async <T>(query: SQL) => {
          const leftMs = Math.ceil(deadline - performance.now());
          if (leftMs <= 0) throw new ReportTimeoutError(timeoutMs);
          await tx.execute(sql`select set_config('statement_timeout', ${String(leftMs)}, true)`);
          return (await tx.execute(query)) as unknown as T[];
        }),
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  } catch (error) {
    if (error instanceof ReportTimeoutError || !isStatementTimeout(error)) throw error;
    throw new ReportTimeoutError(timeoutMs, { cause: error });
  }
}

/** The KPIs of SPEC 1.14 for the tickets created in the period. */
export async function summaryReport(
  db: Database,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
  { timeoutMs }: { readonly timeoutMs: number },
): Promise<SummaryReport> {
  return runReport(db, timeoutMs, (rows) => buildReport(rows, period));
}

async function buildReport(
  rows: ReportQuery,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
): Promise<SummaryReport> {
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
