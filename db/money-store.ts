import { inArray, sql, type SQL } from 'drizzle-orm';
import type { Database } from './client';
import { runReport, type ReportQuery } from './report-run';
import { parts } from './schema';

/** Catalogue unit prices (fen) by part number, and the asked-for part numbers it does not have. */
export interface PartPrices {
  prices: Record<string, number>;
  unknown: string[];
}

/** The price list's parts (seed 004: the company price list): each part's catalogue unit price. */
export async function catalogPrices(db: Database, partNumbers: readonly string[]): Promise<PartPrices> {
  const rows = await db
    .select({ partNumber: parts.partNumber, unitPrice: parts.unitPrice })
    .from(parts)
    .where(inArray(parts.partNumber, [...partNumbers]));
  const prices = Object.fromEntries(rows.map((row) => [row.partNumber, row.unitPrice]));
  return { prices, unknown: partNumbers.filter((partNumber) => !(partNumber in prices)) };
}

/** The returns and money figures of a period (issue 22), built on the tickets' own state. */
export interface ReturnsReport {
  from: string;
  to: string;
  /** Return and exchange requests made in the period, by kind, reason and product model. */
  requests: {
    kind: string;
    returnReason: string;
    model: string | null;
    requested: number;
    approved: number;
    refused: number;
    rejected: number;
  }[];
  /** Refunds made in the period: how many, how much, and how long after the manager's approval. */
  refunds: { count: number; totalFen: number; averageHours: number | null; maxHours: number | null };
  /** Out-of-warranty payments recorded in the period. */
  outOfWarrantyRevenue: { payments: number; totalFen: number };
  /** Remedies granted in the period, by kind, at their cost to the company. */
  remedies: { kind: string; granted: number; costFen: number }[];
  /** Quote rounds answered (or expired) in the period, every round of a ticket counted. */
  quotes: { accepted: number; declined: number; expired: number; acceptanceRate: number | null };
}

interface Period {
  from: string;
  to: string;
  fromInstant: string;
  toInstant: string;
}

export async function returnsReport(
  db: Database,
  period: Period,
  { timeoutMs }: { readonly timeoutMs: number },
): Promise<ReturnsReport> {
  return runReport(db, timeoutMs, (rows) => buildReturnsReport(rows, period));
}

const hours = (value: unknown) => (value === null ? null : Math.round(Number(value) * 100) / 100);

export async function buildReturnsReport(rows: ReportQuery, period: Period): Promise<ReturnsReport> {
  const inPeriod = (instant: SQL) =>
    sql`(${instant})::timestamptz >= ${period.fromInstant}::timestamptz and (${instant})::timestamptz < ${period.toInstant}::timestamptz`;
  const requests = await rows<{
    kind: string;
    return_reason: string;
    model: string | null;
    requested: number;
    approved: number;
    refused: number;
    rejected: number;
  }>(sql`
    select t.state->'returnCase'->>'kind' as kind, t.state->'returnCase'->>'returnReason' as return_reason,
           t.product_model as model, count(*)::int as requested,
           count(*) filter (where t.state->'returnCase'->'decision'->>'outcome' = 'approved')::int as approved,
           count(*) filter (where t.state->'returnCase'->'decision'->>'outcome' = 'refused')::int as refused,
           count(*) filter (where t.state->'returnCase'->'decision'->>'outcome' = 'rejected')::int as rejected
    from tickets t
    where jsonb_typeof(t.state->'returnCase') = 'object'
      and ${inPeriod(sql`t.state->'returnCase'->>'requestedAt'`)}
    group by 1, 2, 3 order by requested desc, kind, return_reason, model`);
  const [refunds] = await rows<{
    count: number;
    total: string | null;
    average: string | null;
    max: string | null;
  }>(sql`
    select count(*)::int as count, sum((t.state->'returnCase'->'refund'->>'amountFen')::bigint) as total,
           avg(extract(epoch from ((t.state->'returnCase'->'refund'->>'at')::timestamptz
               - (t.state->'returnCase'->'decision'->>'at')::timestamptz)) / 3600) as average,
           max(extract(epoch from ((t.state->'returnCase'->'refund'->>'at')::timestamptz
               - (t.state->'returnCase'->'decision'->>'at')::timestamptz)) / 3600) as max
    from tickets t
    where jsonb_typeof(t.state->'returnCase'->'refund') = 'object'
      and ${inPeriod(sql`t.state->'returnCase'->'refund'->>'at'`)}`);
  const [revenue] = await rows<{ payments: number; total: string | null }>(sql`
    select count(*)::int as payments, sum((t.state->'payment'->>'amountFen')::bigint) as total
    from tickets t
    where jsonb_typeof(t.state->'payment') = 'object' and ${inPeriod(sql`t.state->'payment'->>'at'`)}`);
  const remedies = await rows<{ kind: string; granted: number; cost: string }>(sql`
    select r->>'kind' as kind, count(*)::int as granted, sum((r->>'valueFen')::bigint) as cost
    from tickets t, jsonb_array_elements(case when jsonb_typeof(t.state->'remedies') = 'array'
                                              then t.state->'remedies' else '[]'::jsonb end) r
    where r->>'status' = 'granted' and ${inPeriod(sql`coalesce(r->>'decidedAt', r->>'offeredAt')`)}
    group by 1 order by 1`);
  // Every round counts: the earlier rounds and the last quote, each where it was decided.
  const [quotes] = await rows<{ accepted: number; declined: number; expired: number }>(sql`
    select count(*) filter (where q->>'status' = 'accepted')::int as accepted,
           count(*) filter (where q->>'status' = 'declined')::int as declined,
           count(*) filter (where q->>'status' = 'expired')::int as expired
    from tickets t, jsonb_array_elements(
      case when jsonb_typeof(t.state->'earlierQuotes') = 'array' then t.state->'earlierQuotes' else '[]'::jsonb end
      || case when jsonb_typeof(t.state->'quote') = 'object' then jsonb_build_array(t.state->'quote')
              else '[]'::jsonb end) q
    where q->>'decidedAt' is not null and ${inPeriod(sql`q->>'decidedAt'`)}`);
  const answered = (quotes?.accepted ?? 0) + (quotes?.declined ?? 0) + (quotes?.expired ?? 0);
  return {
    from: period.from,
    to: period.to,
    requests: requests.map((row) => ({
      kind: row.kind,
      returnReason: row.return_reason,
      model: row.model,
      requested: row.requested,
      approved: row.approved,
      refused: row.refused,
      rejected: row.rejected,
    })),
    refunds: {
      count: refunds?.count ?? 0,
      totalFen: Number(refunds?.total ?? 0),
      averageHours: hours(refunds?.average ?? null),
      maxHours: hours(refunds?.max ?? null),
    },
    outOfWarrantyRevenue: { payments: revenue?.payments ?? 0, totalFen: Number(revenue?.total ?? 0) },
    remedies: remedies.map((row) => ({ kind: row.kind, granted: row.granted, costFen: Number(row.cost) })),
    quotes: {
      accepted: quotes?.accepted ?? 0,
      declined: quotes?.declined ?? 0,
      expired: quotes?.expired ?? 0,
      acceptanceRate: answered === 0 ? null : Math.round(((quotes?.accepted ?? 0) / answered) * 1000) / 1000,
    },
  };
}
