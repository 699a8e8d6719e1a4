import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { listEscalations } from '../../db/escalation-store';
import { ticketScope } from '../../domain/access';
import { authorize } from '../authorize';
import { positionCursor } from '../cursor';
import { instantFilter } from '../instant-filter';
import { problems, wholeNumber } from '../schemas';

const boolean = z
  .enum(['true', 'false'])
  .transform((value) => value === 'true')
  .optional();

const listQuery = z
  .object({
    ticket: z.string().min(1).max(40).optional(),
    level: wholeNumber(1, 3).optional(),
    reason: z.string().min(1).max(100).optional(),
    open: boolean.describe('true: not acknowledged and not climbed on; false: the others'),
    firedFrom: instantFilter().optional().describe('fired at or after this instant'),
    firedTo: instantFilter().optional().describe('fired before this instant'),
    limit: wholeNumber(1, 100).default(20),
    cursor: positionCursor.query,
  })
  .strict();

const instant = z.string().describe('ISO 8601 instant');
const escalationRow = z.object({
  id: z.string(),
  ticketNumber: z.string(),
  clock: z.string().describe('the missed clock, or secondComplaint'),
  level: z.number().int(),
  reason: z.string(),
  missedDeadline: instant,
  firedAt: instant,
  recordedAt: instant,
  acknowledgedAt: instant.nullable(),
  acknowledgedBy: z.string().nullable(),
  supersededBy: z.string().nullable().describe('the next level’s escalation, once it climbed'),
  open: z.boolean(),
});

/** `GET /v1/escalations`: every escalation ever fired, open or past, newest first. */
export const escalationRoutes: FastifyPluginAsyncZod<{ readonly db: Database }> = async (app, { db }) => {
  app.get(
    '/escalations',
    {
      onRequest: authorize('escalation.read'),
      schema: {
        tags: ['escalations'],
        summary: 'Open and past escalations, filterable, with cursor pagination',
        querystring: listQuery,
        response: {
          200: z.object({ items: z.array(escalationRow), nextCursor: z.string().nullable() }),
          ...problems(400, 401, 403, 429, 503),
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...filters } = request.query;
      const position = cursor === undefined ? undefined : positionCursor.decode(cursor);
      const page = await listEscalations(db, {
        filters,
        scope: ticketScope(request.actor),
        cursor: position && { firedAt: position.at, id: position.key },
        limit,
      });
      return {
        items: page.escalations,
        nextCursor: page.next ? positionCursor.encode({ at: page.next.firedAt, key: page.next.id }) : null,
      };
    },
  );
};
