import { DateTime } from 'luxon';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { CSAT_DIMENSIONS, summaryReport } from '../../db/report-store';
import { authorize } from '../authorize';
import { Problem } from '../problem';
import { reportCsv, reportSvg } from '../report-format';
import { problems } from '../schemas';

const MAX_DAYS = 366;

/** A reply whose body is text rather than the route's JSON answer. */
const asText = (reply: unknown) => reply as FastifyReply;

const counts = z.record(z.string(), z.number().int());
const maybe = z.number().nullable();
const summarySchema = z.object({
  period: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  tickets: z.object({
    total: z.number().int(),
    byStatus: counts,
    byCategory: counts,
    byPriority: counts,
    byChannel: counts,
  }),
  firstResponse: z.object({ averageSeconds: maybe, p90Seconds: maybe, compliancePercent: maybe }),
  resolution: z.object({ compliancePercent: maybe }),
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
  costs: z.object({ averagePartsCost: maybe, averageVisitCost: maybe }),
});

const periodQuery = z
  .object({
    from: z.iso.date('must be a date "YYYY-MM-DD"').describe('first day, in the business time zone'),
    to: z.iso.date('must be a date "YYYY-MM-DD"').describe('last day, included'),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

/** `GET /v1/reports/summary` (JSON or CSV) and `GET /v1/reports/summary.svg`: the KPIs of SPEC 1.14. */
export const reportRoutes: FastifyPluginAsyncZod<{
  readonly db: Database;
  readonly timeZone: string;
}> = async (app, { db, timeZone }) => {
  async function report(query: { from: string; to: string }) {
    const from = DateTime.fromISO(query.from, { zone: timeZone }).startOf('day');
    const to = DateTime.fromISO(query.to, { zone: timeZone }).startOf('day');
    if (to < from) throw new Problem(400, 'Invalid request', 'querystring.to: must not be before from');
    if (to.diff(from, 'days').days >= MAX_DAYS) {
      throw new Problem(400, 'Invalid request', `querystring.to: a period spans at most ${MAX_DAYS} days`);
    }
    return summaryReport(db, {
      from: query.from,
      to: query.to,
      fromInstant: from.toUTC().toISO() ?? '',
      toInstant: to.plus({ days: 1 }).toUTC().toISO() ?? '',
      timeZone,
    });
  }

  app.get(
    '/reports/summary',
    {
      onRequest: authorize('report.read'),
      schema: {
        tags: ['reports'],
        summary: 'KPIs of the tickets created in a period (JSON, or CSV with format=csv)',
        querystring: periodQuery,
        response: { 200: summarySchema, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const summary = await report(request.query);
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
        response: { ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const svg = reportSvg(await report(request.query));
      await asText(reply).type('image/svg+xml; charset=utf-8').send(svg);
    },
  );
};
