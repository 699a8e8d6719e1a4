import { sql, type SQL } from 'drizzle-orm';
import {
  COMPLAINT_TYPE_LABELS,
  DISSATISFACTION_LABELS,
  LIABILITY_LABELS,
  PROBLEM_TYPE_LABELS,
  QC_ASPECTS,
  SATISFACTION_LABELS,
} from '../domain/complaint-analysis';
import { againstTargets, type KpiAgainstTarget, type KpiTargets } from '../domain/kpi';
import { scoreBand } from '../domain/quality';
import { CLOCK_NAMES } from '../domain/ticket';
import type { Database } from './client';
import { buildReturnsReport, type ReturnsReport } from './money-store';
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

/** One value of a taxonomy: how often, and its share of everything that has a value recorded. */
export interface TaxonomyCount {
  key: string;
  label: string;
  count: number;
  sharePercent: number;
}

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
  resolution: { compliancePercent: number | null; averageSeconds: number | null };
  averageSecondsToOnSite: number | null;
  callbacks: { owed: number; within24h: number; within24hPercent: number | null };
  complaints: {
    responses: number;
    within24h: number;
    responseWithin24hPercent: number | null;
    followUps: number;
    followUpsInTime: number;
    followUpCompliancePercent: number | null;
    repeatRatePercent: number | null;
    /** 投诉处理成本, integer fen: recorded items plus remedies granted, over the complaints. */
    handlingCost: {
      complaints: number;
      recordedFen: number;
      remediesFen: number;
      totalFen: number;
      averageFenPerComplaint: number | null;
    };
  };
  complaintAnalysis: {
    complaintTypes: TaxonomyCount[];
    problemTypes: TaxonomyCount[];
    liabilities: TaxonomyCount[];
    dissatisfaction: TaxonomyCount[];
    satisfaction: TaxonomyCount[];
  };
  visits: {
    booked: number;
    onTime: number;
    onTimeArrivalPercent: number | null;
    averageSecondsOnSite: number | null;
  };
  /** Seed 004's dispatch standards: offered within 5 min, answered within 15, booked within 30. */
  dispatch: {
    ticketsToDispatch: number;
    offeredWithin5m: number;
    offeredWithin5mPercent: number | null;
    offers: number;
    answeredWithin15m: number;
    answeredWithin15mPercent: number | null;
    accepted: number;
    bookedWithin30m: number;
    bookedWithin30mPercent: number | null;
  };
  qualityChecks: {
    reviews: number;
    passRatePercent: number | null;
    byBand: Record<string, number>;
    /** Per aspect of seed 000 (reviews that scored the aspects): its mean and its reviews per band. */
    aspects: Record<string, { reviews: number; average: number | null; byBand: Record<string, number> }>;
  };
  timeouts: Record<string, { runs: number; timeouts: number; ratePercent: number | null }>;
  repairsByModel: { model: string; repairs: number; repeatRepairs: number; sharePercent: number }[];
  topProblems: { problem: string; label: string; count: number; sharePercent: number }[];
  targets: KpiAgainstTarget[];
  completionRatePercent: number | null;
  firstTimeFixRatePercent: number | null;
  repeatRepairRatePercent: number | null;
  csat: { callbacks: number } & Record<(typeof CSAT_DIMENSIONS)[number], number | null>;
  csatTrend: { date: string; overall: number }[];
  escalations: { total: number; byLevel: Record<string, number>; byReason: Record<string, number> };
  topCauses: { cause: string; count: number }[];
  costs: { averagePartsCostFen: number | null; averageVisitCostFen: number | null };
  /** The parts report's figures for the period (`GET /v1/reports/parts`), its top parts cut to five. */
  parts: Pick<
    PartsReport,
    'issued' | 'averagePartsCostPerTicket' | 'stockNow' | 'turnover' | 'stockOuts' | 'topConsumed'
  >;
  /** The returns report's figures for the period (`GET /v1/reports/returns`). */
  returns: Omit<ReturnsReport, 'from' | 'to'>;
}

/** How many of the parts report's top consumed parts the summary shows. */
export const SUMMARY_TOP_PARTS = 5;
/** How many product models the repairs-by-model table shows, and how many problems the top list. */
export const SUMMARY_TOP_MODELS = 10;
export const SUMMARY_TOP_PROBLEMS = 3;
/** Clocks whose running out is not a timeout: a reminder, and the end of the reopen window. */
const NOT_TIMEOUTS = new Set<string>(['appointmentReminder', 'reopenWindow']);

const num = (value: unknown, digits: number): number | null =>
  value === null || value === undefined ? null : Number(Number(value).toFixed(digits));
const percent = (part: unknown, whole: unknown): number | null =>
  Number(whole) > 0 ? Number(((Number(part) / Number(whole)) * 100).toFixed(1)) : null;

/**
 * The KPIs of SPEC 1.14 for the tickets created in the period, and the parts and returns reports'
 * figures for the same period, in one snapshot and one time budget.
 */
export async function summaryReport(
  db: Database,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
  { timeoutMs, targets }: { readonly timeoutMs: number; readonly targets: KpiTargets },
): Promise<SummaryReport> {
  return runReport(db, timeoutMs, async (rows) => {
    const kpis = await buildReport(rows, period, targets);
    const parts = await buildPartsReport(rows, period);
    const { from: _from, to: _to, ...returns } = await buildReturnsReport(rows, period);
    return {
      ...kpis,
      parts: {
        issued: parts.issued,
        averagePartsCostPerTicket: parts.averagePartsCostPerTicket,
        stockNow: parts.stockNow,
        turnover: parts.turnover,
        stockOuts: parts.stockOuts,
        topConsumed: parts.topConsumed.slice(0, SUMMARY_TOP_PARTS),
      },
      returns,
    };
  });
}

async function buildReport(
  rows: ReportQuery,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
  targets: KpiTargets,
): Promise<Omit<SummaryReport, 'parts' | 'returns'>> {
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
        -- In fen; a service record from before fen everywhere carried yuan (partsCost, visitCost).
        (select coalesce(sum(coalesce((e.data->>'partsCostFen')::numeric, (e.data->>'partsCost')::numeric * 100)), 0)
          from ticket_events e where e.ticket_number = t.number and e.type = 'resolved') as parts_cost,
        (select coalesce(sum(coalesce((e.data->>'visitCostFen')::numeric, (e.data->>'visitCost')::numeric * 100)), 0)
          from ticket_events e where e.ticket_number = t.number and e.type = 'resolved') as visit_cost
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
      (select count(*) from open_sla t
        where t.state->>'repeatOf' is not null or (t.state->>'reservices')::int > 0) as repeats,
      (select avg(extract(epoch from r.at - t.created_at)) from open_sla t
        cross join lateral (select max(e.at) as at from ticket_events e
          where e.ticket_number = t.number and e.type = 'resolved') r
        where r.at is not null) as res_avg,
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
  // The timeline of the period's tickets that were not cancelled, `seq` ordering each ticket's events.
  const events = sql`(select e.* from ticket_events e join tickets t on t.number = e.ticket_number
    where ${inPeriod} and t.status <> 'cancelled')`;
  // The first event of a type after `e` on the same ticket (before the next `until`, when named).
  const nextAt = (type: string, until?: string) => sql`(select min(n.at) from ticket_events n
    where n.ticket_number = e.ticket_number and n.seq > e.seq and n.type = ${type}
    ${
      until
        ? sql`and not exists (select 1 from ticket_events u where u.ticket_number = e.ticket_number
      and u.type = ${until} and u.seq > e.seq and u.seq < n.seq)`
        : sql``
    })`;
  const day = sql`interval '24 hours'`;
  const minutes = (n: number) => sql.raw(`interval '${n} minutes'`);
  const among = (column: SQL, types: readonly string[]) =>
    sql`${column} in (${sql.join(
      types.map((type) => sql`${type}`),
      sql`, `,
    )})`;
  const servicePlan = (alias: string) => sql.raw(`coalesce(${alias}.data->>'kind', 'service') <> 'director'`);
  const [service] = await rows<Record<string, unknown>>(sql`
    with callbacks as (
      select e.at as due_at, ${nextAt('callback_recorded', 'callback_due')} as done_at
      from ${events} e where e.type = 'callback_due'
    ),
    complaint_responses as (
      select t.created_at as opened_at, ${metAt('firstResponse')} as done_at
      from tickets t where ${inPeriod} and t.status <> 'cancelled' and t.category = 'complaint'
      union all
      select e.at, ${nextAt('follow_up_recorded')} from ${events} e where e.type = 'complaint_opened'
    ),
    follow_ups as (
      select (e.data->>'followUpDueAt')::timestamptz as due_at, ${nextAt('follow_up_recorded')} as done_at
      from ${events} e where e.type = 'complaint_opened'
    ),
    visits as (
      select e.at as started_at, slot.slot_start, slot.slot_end, ${nextAt('resolved')} as resolved_at
      from ${events} e
      left join lateral (
        select (b.data->>'slotStart')::timestamptz as slot_start, (b.data->>'slotEnd')::timestamptz as slot_end
        from ticket_events b where b.ticket_number = e.ticket_number and b.seq < e.seq
          and b.type in ('scheduled', 'rescheduled')
        order by b.seq desc limit 1
      ) slot on true
      where e.type = 'service_started' and e.data->>'mode' = 'onsite'
    ),
    -- The ticket's first service plan (the one that moved it to planned), when it asked for an engineer.
    dispatches as (
      select e.at as ready_at, ${nextAt('assigned')} as offered_at
      from ${events} e
      where e.type = 'planned' and ${servicePlan('e')} and coalesce((e.data->>'dispatch')::boolean, true)
        and not exists (select 1 from ticket_events p where p.ticket_number = e.ticket_number
          and p.type = 'planned' and p.seq < e.seq and ${servicePlan('p')})
    ),
    -- Each offer, answered by its engineer's accept or decline before another offer or a missed one.
    offers as (
      select e.at as offered_at, (select min(n.at) from ticket_events n
        where n.ticket_number = e.ticket_number and n.seq > e.seq and ${among(sql`n.type`, ['accepted', 'declined'])}
          and not exists (select 1 from ticket_events u where u.ticket_number = e.ticket_number
            and u.seq > e.seq and u.seq < n.seq and ${among(sql`u.type`, ['assigned', 'acceptance_missed'])}))
        as answered_at
      from ${events} e where e.type = 'assigned'
    ),
    -- Each acceptance and what came next of a booking, a start or another acceptance.
    bookings as (
      select e.at as accepted_at, case when s.type = 'scheduled' then s.at end as booked_at,
        s.type = 'service_started' and s.data->>'mode' = 'remote' as remote
      from ${events} e
      left join lateral (
        select n.type, n.at, n.data from ticket_events n
        where n.ticket_number = e.ticket_number and n.seq > e.seq
          and ${among(sql`n.type`, ['scheduled', 'service_started', 'accepted'])}
        order by n.seq limit 1
      ) s on true
      where e.type = 'accepted'
    ),
    complained as (
      select (case when t.category = 'complaint' then 1 else 0 end) + (t.state->>'complaints')::int as n
      from tickets t where ${inPeriod} and t.status <> 'cancelled'
    )
    select
      (select count(*) from callbacks where done_at is not null or due_at + ${day} <= now()) as cb_owed,
      (select count(*) from callbacks where done_at <= due_at + ${day}) as cb_in_time,
      (select count(*) from complaint_responses where done_at is not null or opened_at + ${day} <= now())
        as cr_owed,
      (select count(*) from complaint_responses where done_at <= opened_at + ${day}) as cr_in_time,
      (select count(*) from follow_ups where done_at is not null or due_at <= now()) as fu_owed,
      (select count(*) from follow_ups where done_at <= due_at) as fu_in_time,
      (select count(*) from visits where slot_start is not null) as booked,
      (select count(*) from visits where started_at <= coalesce(slot_end, slot_start)) as on_time,
      (select avg(extract(epoch from resolved_at - started_at)) from visits) as on_site_avg,
      (select count(*) from dispatches where offered_at is not null or ready_at + ${minutes(5)} <= now())
        as dispatch_owed,
      (select count(*) from dispatches where offered_at <= ready_at + ${minutes(5)}) as dispatch_in_time,
      (select count(*) from offers where answered_at is not null or offered_at + ${minutes(15)} <= now())
        as offers_owed,
      (select count(*) from offers where answered_at <= offered_at + ${minutes(15)}) as offers_in_time,
      (select count(*) from bookings where remote is not true
        and (booked_at is not null or accepted_at + ${minutes(30)} <= now())) as bookings_owed,
      (select count(*) from bookings where booked_at <= accepted_at + ${minutes(30)}) as bookings_in_time,
      (select count(*) from complained where n >= 2) as repeat_complaints,
      (select count(*) from complained where n >= 1) as complained
  `);
  const bands = await rows<{ band: string; n: number }>(sql`
    select e.data->>'band' as band, count(*)::int as n from ${events} e where e.type = 'qc_reviewed'
    group by 1 order by 1
  `);
  // A clock's runs are the cycles it started; a timeout is its first escalation (a climb is not a
  // new timeout) or, for the acceptance clock, an offer nobody answered.
  const clockRuns = await rows<{ clock: string; runs: number }>(sql`
    select c.key as clock, sum((c.value->>'cycle')::int)::int as runs
    from tickets t, jsonb_each(t.state->'clocks') c where ${inPeriod} group by 1 order by 1
  `);
  const clockTimeouts = await rows<{ clock: string; n: number }>(sql`
    select x.clock, count(*)::int as n from escalations x join tickets t on t.number = x.ticket_number
    where ${inPeriod} and x.reason <> 'escalation_not_acknowledged' group by 1
    union all
    select 'dispatchAccept', count(*)::int from ticket_events e join tickets t on t.number = e.ticket_number
    where ${inPeriod} and e.type = 'acceptance_missed'
  `);
  const models = await rows<{ model: string; repairs: number; repeats: number; all_repairs: number }>(sql`
    select coalesce(t.product_model, '(unknown)') as model, count(*)::int as repairs,
      count(*) filter (where t.state->>'repeatOf' is not null or (t.state->>'reservices')::int > 0)::int
        as repeats,
      (sum(count(*)) over ())::int as all_repairs
    from tickets t where ${inPeriod} and t.status <> 'cancelled'
      and jsonb_array_length(t.state->'serviceRecords') > 0
    group by 1 order by 2 desc, 1 asc limit ${SUMMARY_TOP_MODELS}
  `);
  // A taxonomy's counts, most frequent first: each value's share of all that have one recorded.
  const taxonomy = async (
    values: SQL,
    labels: Readonly<Record<string, string>>,
  ): Promise<TaxonomyCount[]> => {
    const counted = await rows<{ key: string; n: number }>(sql`
      select v.key, count(*)::int as n from (${values}) v where v.key is not null
      group by 1 order by 2 desc, 1 asc`);
    const recorded = counted.reduce((total, row) => total + row.n, 0);
    return counted.map((row) => ({
      key: row.key,
      label: labels[row.key] ?? row.key,
      count: row.n,
      sharePercent: percent(row.n, recorded) ?? 0,
    }));
  };
  // As the period's tickets are classified, and as their customers answered the callbacks.
  const classified = (field: string) => sql`select t.state->'analysis'->>${field} as key
    from tickets t where ${inPeriod} and t.status <> 'cancelled'`;
  const answered = (field: string) => sql`select cb->'input'->>${field} as key
    from tickets t, jsonb_array_elements(t.state->'callbacks') cb where ${inPeriod}`;
  const complaintAnalysis = {
    complaintTypes: await taxonomy(classified('complaintType'), COMPLAINT_TYPE_LABELS),
    problemTypes: await taxonomy(classified('problemType'), PROBLEM_TYPE_LABELS),
    liabilities: await taxonomy(classified('liability'), LIABILITY_LABELS),
    dissatisfaction: await taxonomy(answered('dissatisfaction'), DISSATISFACTION_LABELS),
    satisfaction: await taxonomy(answered('satisfaction'), SATISFACTION_LABELS),
  };
  const aspectScores = await rows<{ aspect: string; score: number; n: number }>(sql`
    select a.key as aspect, a.value::int as score, count(*)::int as n
    from ${events} e, jsonb_each_text(e.data->'aspects') a where e.type = 'qc_reviewed'
    group by 1, 2 order by 1, 2
  `);
  // A complaint: a ticket opened as one, or with a dissatisfied callback. Its cost is what was
  // recorded for handling it and the remedies granted on it, at their cost.
  const [cost] = await rows<{ complaints: number; recorded: unknown; remedies: unknown }>(sql`
    select count(*)::int as complaints,
      coalesce(sum((select sum((c->>'totalFen')::bigint)
        from jsonb_array_elements(coalesce(t.state->'handlingCosts', '[]'::jsonb)) c)), 0) as recorded,
      coalesce(sum((select sum((r->>'valueFen')::bigint)
        from jsonb_array_elements(coalesce(t.state->'remedies', '[]'::jsonb)) r
        where r->>'status' = 'granted')), 0) as remedies
    from tickets t where ${inPeriod} and t.status <> 'cancelled'
      and (t.category = 'complaint' or (t.state->>'complaints')::int > 0)
  `);
  const v = service ?? {};
  const timeouts = Object.fromEntries(
    clockRuns
      .filter((row) => !NOT_TIMEOUTS.has(row.clock) && (CLOCK_NAMES as readonly string[]).includes(row.clock))
      .map((row) => {
        const missed = clockTimeouts
          .filter((timeout) => timeout.clock === row.clock)
          .reduce((total, timeout) => total + timeout.n, 0);
        return [row.clock, { runs: row.runs, timeouts: missed, ratePercent: percent(missed, row.runs) }];
      }),
  );
  const reviews = bands.reduce((total, row) => total + row.n, 0);
  const callbacks = {
    owed: Number(v.cb_owed ?? 0),
    within24h: Number(v.cb_in_time ?? 0),
    within24hPercent: percent(v.cb_in_time, v.cb_owed),
  };
  const complaints = {
    responses: Number(v.cr_owed ?? 0),
    within24h: Number(v.cr_in_time ?? 0),
    responseWithin24hPercent: percent(v.cr_in_time, v.cr_owed),
    followUps: Number(v.fu_owed ?? 0),
    followUpsInTime: Number(v.fu_in_time ?? 0),
    followUpCompliancePercent: percent(v.fu_in_time, v.fu_owed),
    repeatRatePercent: percent(v.repeat_complaints, v.complained),
    handlingCost: handlingCost(cost),
  };
  const visits = {
    booked: Number(v.booked ?? 0),
    onTime: Number(v.on_time ?? 0),
    onTimeArrivalPercent: percent(v.on_time, v.booked),
    averageSecondsOnSite: num(v.on_site_avg, 1),
  };
  const dispatch = {
    ticketsToDispatch: Number(v.dispatch_owed ?? 0),
    offeredWithin5m: Number(v.dispatch_in_time ?? 0),
    offeredWithin5mPercent: percent(v.dispatch_in_time, v.dispatch_owed),
    offers: Number(v.offers_owed ?? 0),
    answeredWithin15m: Number(v.offers_in_time ?? 0),
    answeredWithin15mPercent: percent(v.offers_in_time, v.offers_owed),
    accepted: Number(v.bookings_owed ?? 0),
    bookedWithin30m: Number(v.bookings_in_time ?? 0),
    bookedWithin30mPercent: percent(v.bookings_in_time, v.bookings_owed),
  };
  const f = figures ?? {};
  const firstTimeFix = percent(f.first_time_fixed, f.serviced);
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
    resolution: {
      compliancePercent: percent(f.res_in_time, Number(f.res_in_time) + Number(f.res_missed)),
      averageSeconds: num(f.res_avg, 1),
    },
    averageSecondsToOnSite: num(f.onsite_avg, 1),
    completionRatePercent: percent(f.completed, f.not_cancelled),
    firstTimeFixRatePercent: firstTimeFix,
    repeatRepairRatePercent: percent(f.repeats, f.not_cancelled),
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
    costs: { averagePartsCostFen: num(f.parts_avg, 0), averageVisitCostFen: num(f.visit_avg, 0) },
    callbacks,
    complaints,
    visits,
    dispatch,
    qualityChecks: {
      reviews,
      passRatePercent: percent(
        bands.filter((row) => row.band !== 'fail').reduce((t, r) => t + r.n, 0),
        reviews,
      ),
      byBand: Object.fromEntries(bands.map((row) => [row.band, row.n])),
      aspects: aspectFigures(aspectScores),
    },
    complaintAnalysis,
    timeouts,
    repairsByModel: models.map((row) => ({
      model: row.model,
      repairs: row.repairs,
      repeatRepairs: row.repeats,
      sharePercent: percent(row.repairs, row.all_repairs) ?? 0,
    })),
    topProblems: complaintAnalysis.complaintTypes.slice(0, SUMMARY_TOP_PROBLEMS).map((row) => ({
      problem: row.key,
      label: row.label,
      count: row.count,
      sharePercent: row.sharePercent,
    })),
    targets: againstTargets(
      {
        firstTimeFixRatePercent: firstTimeFix,
        callbackWithin24hPercent: callbacks.within24hPercent,
        complaintResponseWithin24hPercent: complaints.responseWithin24hPercent,
        onTimeArrivalPercent: visits.onTimeArrivalPercent,
        dispatchWithin5mPercent: dispatch.offeredWithin5mPercent,
        offersAnsweredWithin15mPercent: dispatch.answeredWithin15mPercent,
        bookedWithin30mPercent: dispatch.bookedWithin30mPercent,
      },
      targets,
    ),
  };
}

/** The complaints' handling cost in integer fen; the average rounded to the fen. */
function handlingCost(
  row: { complaints: number; recorded: unknown; remedies: unknown } | undefined,
): SummaryReport['complaints']['handlingCost'] {
  const complaints = Number(row?.complaints ?? 0);
  const recordedFen = Number(row?.recorded ?? 0);
  const remediesFen = Number(row?.remedies ?? 0);
  const totalFen = recordedFen + remediesFen;
  return {
    complaints,
    recordedFen,
    remediesFen,
    totalFen,
    averageFenPerComplaint: complaints > 0 ? Math.round(totalFen / complaints) : null,
  };
}

/** Each QC aspect's reviews, mean score (one decimal) and reviews per band, from score counts. */
function aspectFigures(
  scores: readonly { aspect: string; score: number; n: number }[],
): SummaryReport['qualityChecks']['aspects'] {
  return Object.fromEntries(
    QC_ASPECTS.map((aspect) => {
      const mine = scores.filter((row) => row.aspect === aspect);
      const reviews = mine.reduce((total, row) => total + row.n, 0);
      const sum = mine.reduce((total, row) => total + row.score * row.n, 0);
      const byBand: Record<string, number> = {};
      for (const row of mine) byBand[scoreBand(row.score)] = (byBand[scoreBand(row.score)] ?? 0) + row.n;
      return [aspect, { reviews, average: reviews > 0 ? num(sum / reviews, 1) : null, byBand }];
    }),
  );
}
