import { DateTime } from 'luxon';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { returnsReport } from '../../db/money-store';
import { partsReport } from '../../db/parts-store';
import {
  CSAT_DIMENSIONS,
  SUMMARY_TOP_MODELS,
  SUMMARY_TOP_PARTS,
  SUMMARY_TOP_PROBLEMS,
  summaryReport,
} from '../../db/report-store';
import { KPI_NAMES, type KpiTargets } from '../../domain/kpi';
import { ReportTimeoutError } from '../../db/report-run';
import { AdmissionRefused, admissionLimit } from '../admission';
import { authorize } from '../authorize';
import { Problem } from '../problem';
import { reportCsv, reportSvg } from '../report-format';
import { problems } from '../schemas';

const MAX_DAYS = 366;

/** A reply whose body is text rather than the route's JSON answer. */
const asText = (reply: unknown) => reply as FastifyReply;

const counts = z.record(z.string(), z.number().int());
const maybe = z.number().nullable();
const taxonomyCounts = z.array(
  z.object({ key: z.string(), label: z.string(), count: z.number().int(), sharePercent: z.number() }),
);

const periodQuery = z
  .object({
    from: z.iso.date('must be a date "YYYY-MM-DD"').describe('first day, in the business time zone'),
    to: z.iso
      .date('must be a date "YYYY-MM-DD"')
      .describe(
        `last day, included: not before \`from\`, and at most ${MAX_DAYS} days from it, both included`,
      ),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

interface ReportPeriod {
  readonly from: string;
  readonly to: string;
  readonly fromInstant: string;
  readonly toInstant: string;
  readonly timeZone: string;
}

const partsReportSchema = z.object({
  period: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  issued: z
    .object({ quantity: z.number().int(), value: z.number().int(), tickets: z.number().int() })
    .describe('issued to tickets; value at unit cost, in fen'),
  averagePartsCostPerTicket: z.number().int().nullable().describe('fen, at unit cost (not price)'),
  received: z.object({ quantity: z.number().int(), rejected: z.number().int() }),
  scrapped: z.object({ quantity: z.number().int(), value: z.number().int() }),
  stockNow: z.object({ onHand: z.number().int(), value: z.number().int() }),
  turnover: z.number().nullable().describe('issued value over the stock’s value now, both at cost'),
  stockOuts: z
    .object({
      tickets: z.number().int(),
      ticketsRequestingParts: z.number().int(),
      sharePercent: z.number().nullable(),
    })
    .describe('tickets whose parts request had a shortfall'),
  topConsumed: z.array(
    z.object({
      model: z.string(),
      partNumber: z.string(),
      quantity: z.number().int(),
      value: z.number().int(),
    }),
  ),
});

const returnsReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  requests: z
    .array(
      z.object({
        kind: z.string(),
        returnReason: z.string(),
        model: z.string().nullable(),
        requested: z.number().int(),
        approved: z.number().int(),
        refused: z.number().int(),
        rejected: z.number().int(),
      }),
    )
    .describe('return and exchange requests made in the period, by kind, reason and product model'),
  refunds: z
    .object({
      count: z.number().int(),
      totalFen: z.number().int(),
      averageHours: z.number().nullable(),
      maxHours: z.number().nullable(),
    })
    .describe('refunds made in the period, and the hours from the manager’s approval to the refund'),
  outOfWarrantyRevenue: z
    .object({ payments: z.number().int(), totalFen: z.number().int() })
    .describe('payments of consented quotes recorded in the period'),
  remedies: z
    .array(z.object({ kind: z.string(), granted: z.number().int(), costFen: z.number().int() }))
    .describe('remedies granted in the period at their cost'),
  quotes: z
    .object({
      accepted: z.number().int(),
      declined: z.number().int(),
      expired: z.number().int(),
      acceptanceRate: z.number().nullable().describe('accepted ÷ answered; null when none was answered'),
    })
    .describe('quotes answered in the period'),
});

export const summarySchema = z.object({
  period: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  tickets: z.object({
    total: z.number().int(),
    byStatus: counts,
    byCategory: counts,
    byPriority: counts,
    byChannel: counts,
  }),
  firstResponse: z.object({ averageSeconds: maybe, p90Seconds: maybe, compliancePercent: maybe }),
  resolution: z.object({
    compliancePercent: maybe,
    averageSeconds: maybe.describe('creation to the last resolution, tickets resolved and not cancelled'),
  }),
  averageSecondsToOnSite: maybe,
  completionRatePercent: maybe,
  firstTimeFixRatePercent: maybe,
  repeatRepairRatePercent: maybe,
  csat: z.object({
    callbacks: z.number().int(),
    ...Object.fromEntries(CSAT_DIMENSIONS.map((dimension) => [dimension, maybe])),
  }),
  csatTrend: z.array(z.object({ date: z.string(), overall: z.number() })),
  escalations: z.object({ total: z.number().int(), byLevel: counts, byReason: counts }),
  topCauses: z.array(z.object({ cause: z.string(), count: z.number().int() })),
  costs: z
    .object({
      averagePartsCostFen: z.number().int().nullable(),
      averageVisitCostFen: z.number().int().nullable(),
    })
    .describe('per serviced ticket, from the prices in its service records, in integer fen'),
  callbacks: z
    .object({ owed: z.number().int(), within24h: z.number().int(), within24hPercent: maybe })
    .describe('callbacks owed (recorded, or 24 h past due) and those recorded within 24 h'),
  complaints: z.object({
    responses: z.number().int(),
    within24h: z.number().int(),
    responseWithin24hPercent: maybe,
    followUps: z.number().int(),
    followUpsInTime: z.number().int(),
    followUpCompliancePercent: maybe,
    repeatRatePercent: maybe,
    handlingCost: z
      .object({
        complaints: z.number().int(),
        recordedFen: z.number().int(),
        remediesFen: z.number().int(),
        totalFen: z.number().int(),
        averageFenPerComplaint: z.number().int().nullable(),
      })
      .describe(
        '投诉处理成本, integer fen: the handling costs recorded on the complaints plus the remedies granted on them, and that total ÷ complaints',
      ),
  }),
  complaintAnalysis: z
    .object({
      complaintTypes: taxonomyCounts,
      problemTypes: taxonomyCounts,
      liabilities: taxonomyCounts,
      dissatisfaction: taxonomyCounts,
      satisfaction: taxonomyCounts,
    })
    .describe(
      'tickets by complaint sub-type, problem type and liability as classified; callbacks by dissatisfaction category and satisfaction level; each value’s share of those with one recorded',
    ),
  visits: z
    .object({
      booked: z.number().int(),
      onTime: z.number().int(),
      onTimeArrivalPercent: maybe,
      averageSecondsOnSite: maybe,
    })
    .describe('on-site visits: started by the end of the booked slot (its start without an end)'),
  dispatch: z
    .object({
      ticketsToDispatch: z.number().int(),
      offeredWithin5m: z.number().int(),
      offeredWithin5mPercent: maybe,
      offers: z.number().int(),
      answeredWithin15m: z.number().int(),
      answeredWithin15mPercent: maybe,
      accepted: z.number().int(),
      bookedWithin30m: z.number().int(),
      bookedWithin30mPercent: maybe,
    })
    .describe(
      "seed 004's dispatch standards: tickets whose first plan asked for an engineer, offered to one within 5 min of it; offers accepted or declined within 15 min; acceptances followed by a booking within 30 min (a remote start needs none)",
    ),
  qualityChecks: z.object({
    reviews: z.number().int(),
    passRatePercent: maybe,
    byBand: counts,
    aspects: z
      .record(z.string(), z.object({ reviews: z.number().int(), average: maybe, byBand: counts }))
      .describe('per aspect (compliance, effectiveness, communication) of the reviews that scored them'),
  }),
  timeouts: z
    .record(z.string(), z.object({ runs: z.number().int(), timeouts: z.number().int(), ratePercent: maybe }))
    .describe('per clock: how often it started and how often it ran out'),
  repairsByModel: z
    .array(
      z.object({
        model: z.string(),
        repairs: z.number().int(),
        repeatRepairs: z.number().int(),
        sharePercent: z.number(),
      }),
    )
    .max(SUMMARY_TOP_MODELS)
    .describe(`the ${SUMMARY_TOP_MODELS} models repaired most, each one's share of the period's repairs`),
  topProblems: z
    .array(
      z.object({
        problem: z.string(),
        label: z.string(),
        count: z.number().int(),
        sharePercent: z.number(),
      }),
    )
    .max(SUMMARY_TOP_PROBLEMS)
    .describe(
      "the most frequent complaint sub-types (问题 Top 3), each one's share of the tickets classified with one",
    ),
  targets: z
    .array(
      z.object({
        kpi: z.enum(KPI_NAMES),
        value: maybe,
        target: z.number(),
        met: z.boolean().nullable(),
      }),
    )
    .describe("each targeted figure beside its target (the SLA policy file's `targets`)"),
  parts: partsReportSchema
    .pick({ issued: true, averagePartsCostPerTicket: true, stockNow: true, turnover: true, stockOuts: true })
    .extend({
      topConsumed: partsReportSchema.shape.topConsumed
        .max(SUMMARY_TOP_PARTS)
        .describe(`the ${SUMMARY_TOP_PARTS} parts issued most, by model`),
    })
    .describe('the figures of `GET /v1/reports/parts` for the same period: parts issued in it'),
  returns: returnsReportSchema
    .omit({ from: true, to: true })
    .describe(
      'the figures of `GET /v1/reports/returns` for the same period: returns and exchanges by reason and model, refund time, out-of-warranty revenue, remedy cost, quote acceptance',
    ),
});

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

/**
 * `GET /v1/reports/summary` (JSON or CSV) and `GET /v1/reports/summary.svg`: the KPIs of SPEC 1.14.
 * Reports are the heaviest reads on the shared pool: `concurrency` are built at once, `queue` more
 * wait, any beyond those is a 503 with Retry-After; a build past `timeoutMs` is a 503 naming it.
 */
export const reportRoutes: FastifyPluginAsyncZod<{
  readonly db: Database;
  readonly timeZone: string;
  readonly targets: KpiTargets;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly queue: number;
}> = async (app, { db, timeZone, targets, timeoutMs, concurrency, queue }) => {
  const admit = admissionLimit({ concurrency, queue });
  // A slot frees within one report's budget at the latest.
  const retryAfter = String(Math.ceil(timeoutMs / 1000));

  async function report<R>(
    query: { from: string; to: string },
    reply: FastifyReply,
    build: (period: ReportPeriod) => Promise<R>,
  ): Promise<R> {
    const from = DateTime.fromISO(query.from, { zone: timeZone }).startOf('day');
    const to = DateTime.fromISO(query.to, { zone: timeZone }).startOf('day');
    if (to < from) throw new Problem(400, 'Invalid request', 'querystring.to: must not be before from');
    if (to.diff(from, 'days').days >= MAX_DAYS) {
      throw new Problem(400, 'Invalid request', `querystring.to: a period spans at most ${MAX_DAYS} days`);
    }
    const period = {
      from: query.from,
      to: query.to,
      fromInstant: from.toUTC().toISO() ?? '',
      toInstant: to.plus({ days: 1 }).toUTC().toISO() ?? '',
      timeZone,
    };
    try {
      return await admit(() => build(period));
    } catch (error) {
      if (error instanceof AdmissionRefused) {
        reply.header('retry-after', retryAfter);
        throw new Problem(
          503,
          'Service Unavailable',
          `too many reports at once: ${concurrency} being built and ${queue} waiting (REPORT_CONCURRENCY, REPORT_QUEUE); retry in ${retryAfter} s`,
        );
      }
      if (error instanceof ReportTimeoutError) {
        reply.header('retry-after', retryAfter);
        throw new Problem(
          503,
          'Report timed out',
          `the report took longer than REPORT_TIMEOUT (${seconds(timeoutMs)}) and was stopped; ask for a shorter period or retry later`,
        );
      }
      throw error;
    }
  }

  app.get(
    '/reports/summary',
    {
      onRequest: authorize('report.read'),
      schema: {
        tags: ['reports'],
        summary: 'KPIs of the tickets created in a period (JSON, or CSV with format=csv)',
        querystring: periodQuery,
        response: {
          200: {
            description: 'the KPIs: JSON, or a CSV file with format=csv',
            content: { 'application/json': { schema: summarySchema }, 'text/csv': { schema: z.string() } },
          },
          ...problems(400, 401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const summary = await report(request.query, asText(reply), (period) =>
        summaryReport(db, period, { timeoutMs, targets }),
      );
      if (request.query.format !== 'csv') return summary;
      // CSV is text: sent past the JSON serializer of the 200 schema.
      const file = `aftercare-${summary.period.from}-${summary.period.to}.csv`;
      await asText(reply)
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${file}"`)
        .send(reportCsv(summary));
    },
  );

  app.get(
    '/reports/summary.svg',
    {
      onRequest: authorize('report.read'),
      schema: {
        tags: ['reports'],
        summary: 'The period’s SLA compliance, escalations by level and CSAT, drawn',
        querystring: periodQuery.omit({ format: true }),
        response: {
          200: {
            description: 'an SVG image',
            content: { 'image/svg+xml': { schema: z.string() } },
          },
          ...problems(400, 401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const svg = reportSvg(
        await report(request.query, asText(reply), (period) =>
          summaryReport(db, period, { timeoutMs, targets }),
        ),
      );
      await asText(reply).type('image/svg+xml; charset=utf-8').send(svg);
    },
  );

  app.get(
    '/reports/parts',
    {
      onRequest: authorize('report.parts'),
      schema: {
        tags: ['reports'],
        summary:
          'Parts in a period: issued at cost per ticket, received, scrapped, turnover, stock-outs, top parts per model',
        querystring: periodQuery.omit({ format: true }),
        response: { 200: partsReportSchema, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) =>
      report(request.query, asText(reply), (period) => partsReport(db, period, { timeoutMs })),
  );

  app.get(
    '/reports/returns',
    {
      onRequest: authorize('report.read'),
      schema: {
        tags: ['reports'],
        summary:
          'Returns, exchanges and money in a period: requests by reason and model, refund time, out-of-warranty revenue, remedy cost, quote acceptance rate',
        querystring: periodQuery.omit({ format: true }),
        response: { 200: returnsReportSchema, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) =>
      report(request.query, asText(reply), (period) => returnsReport(db, period, { timeoutMs })),
  );
};
