import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { findMonthlyReport } from '../../db/monthly-report-store';
import type { KpiTargets } from '../../domain/kpi';
import {
  EARLIEST_MONTH,
  monthlyReportDueAtMs,
  monthlyReportLinks,
  monthOf,
  REPORTABLE_MONTH,
} from '../../domain/monthly-report';
import type { monthlyReportWorkflow } from '../../workflows';
import { authorize } from '../authorize';
import { Problem } from '../problem';
import { reportCsv, reportSvg } from '../report-format';
import { problems } from '../schemas';
import { summarySchema } from './reports';

const monthParams = z.object({
  // Reports start with 2000-01 (year 0 would make a run retry forever); the pattern says so, so a client
  // that follows the document never sends an earlier month.
  month: z
    .string()
    .regex(REPORTABLE_MONTH, `must be a month "YYYY-MM" from ${EARLIEST_MONTH}`)
    .describe('in the business time zone'),
});

const linksSchema = z
  .object({ json: z.string(), csv: z.string(), svg: z.string() })
  .describe('the stored report as JSON, CSV and SVG');

const runSchema = z.object({
  month: z.string(),
  workflowId: z.string().describe('the run that produces it, in Temporal UI'),
  started: z.boolean().describe('false when a run of this month was already going or done'),
  dueAt: z.string().describe('the end of the 5th of the following month, business time'),
  links: linksSchema,
});

const storedSchema = z.object({
  month: z.string(),
  period: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  producedAt: z.string(),
  deliveredAt: z.string().nullable().describe("when the managers' notice went out; null while it waits"),
  escalatedAt: z.string().nullable().describe('when the director was told it missed the 5th'),
  links: linksSchema,
  report: summarySchema,
});

/** The run of a month started from the API: one id per month, so a repeat finds it. */
export const monthlyReportWorkflowId = (month: string) => `monthly-report-${month}`;

/**
 * `POST /v1/reports/monthly/{month}` (backfill, or a rerun of a month the Schedule missed) and
 * `GET /v1/reports/monthly/{month}` (the stored report as JSON, CSV or SVG). A month is produced
 * once: a repeat, or the Schedule's own run of it, leaves the first report as it is.
 */
export const monthlyReportRoutes: FastifyPluginAsyncZod<{
  readonly db: Database;
  readonly temporal: Client;
  readonly taskQueue: string;
  readonly timeZone: string;
  readonly targets: KpiTargets;
}> = async (app, { db, temporal, taskQueue, timeZone, targets }) => {
  app.post(
    '/reports/monthly/:month',
    {
      onRequest: authorize('report.monthly'),
      schema: {
        tags: ['reports'],
        summary: "Produce a past month's report and deliver it to the managers (idempotent by month)",
        params: monthParams,
        response: { 202: runSchema, ...problems(400, 401, 403, 409, 429, 503) },
      },
    },
    async (request, reply) => {
      const { month } = request.params;
      // A well-formed month that is not over yet: the request is right, the month is not ready (409).
      if (month >= monthOf(Date.now(), timeZone)) {
        throw new Problem(
          409,
          'Conflict',
          `params.month: ${month} is not over yet in ${timeZone}; only a past month can be reported`,
        );
      }
      const workflowId = monthlyReportWorkflowId(month);
      let started = true;
      try {
        await temporal.workflow.start('monthlyReportWorkflow', {
          workflowId,
          taskQueue,
          args: [{ timeZone, targets, month }] satisfies Parameters<typeof monthlyReportWorkflow>,
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          staticSummary: `monthly report ${month}`,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        started = false;
      }
      return reply.code(202).send({
        month,
        workflowId,
        started,
        dueAt: new Date(monthlyReportDueAtMs(month, timeZone)).toISOString(),
        links: monthlyReportLinks(month),
      });
    },
  );

  app.get(
    '/reports/monthly/:month',
    {
      onRequest: authorize('report.read'),
      schema: {
        tags: ['reports'],
        summary: "A month's report as it was produced: JSON, or CSV or SVG with format",
        params: monthParams,
        querystring: z.object({ format: z.enum(['json', 'csv', 'svg']).default('json') }).strict(),
        response: {
          200: {
            description: 'the stored report: JSON, a CSV file, or an SVG image',
            content: {
              'application/json': { schema: storedSchema },
              'text/csv': { schema: z.string() },
              'image/svg+xml': { schema: z.string() },
            },
          },
          ...problems(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { month } = request.params;
      const stored = await findMonthlyReport(db, month);
      if (!stored) throw new Problem(404, 'Not Found', `no report for ${month} has been produced`);
      const text = reply as FastifyReply;
      if (request.query.format === 'csv') {
        await text
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="aftercare-${month}.csv"`)
          .send(reportCsv(stored.report));
        return;
      }
      if (request.query.format === 'svg') {
        await text.type('image/svg+xml; charset=utf-8').send(reportSvg(stored.report));
        return;
      }
      const { report, ...rest } = stored;
      return { ...rest, links: monthlyReportLinks(month), report };
    },
  );
};
