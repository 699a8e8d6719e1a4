import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { customerTickets, holdsOpenTicketOf } from '../../db/customer-store';
import { CUSTOMER_ID_PATTERN, customerFileAccess } from '../../domain/customer-file';
import { authorize } from '../authorize';
import { positionCursor } from '../cursor';
import { Problem } from '../problem';
import { problems, ticketPageSchema, wholeNumber } from '../schemas';
import { present } from './tickets';

const customerParams = z.object({
  customerId: z
    .string()
    .regex(CUSTOMER_ID_PATTERN, 'must be a customer id: "c_" and 32 hex digits (a ticket\'s customerId)'),
});

const pageQuery = z.object({ limit: wholeNumber(1, 100).default(20), cursor: positionCursor.query }).strict();

/** `GET /v1/customers/{customerId}/tickets`: the customer file, as each role may see it. */
export const customerRoutes: FastifyPluginAsyncZod<{ readonly db: Database }> = async (app, { db }) => {
  app.get(
    '/customers/:customerId/tickets',
    {
      onRequest: authorize('ticket.read'),
      schema: {
        tags: ['tickets'],
        summary: "A customer's tickets, newest first: the history agents and engineers read before a visit",
        params: customerParams,
        querystring: pageQuery,
        response: { 200: ticketPageSchema, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const { customerId } = request.params;
      const { actor } = request;
      const holds = actor.role === 'engineer' && (await holdsOpenTicketOf(db, actor.id, customerId));
      const access = customerFileAccess(actor, holds);
      if (access.kind === 'refused') throw new Problem(403, 'Forbidden', access.reason);
      const { limit, cursor } = request.query;
      const position = cursor === undefined ? undefined : positionCursor.decode(cursor);
      const page = await customerTickets(db, {
        customerId,
        scope: access.scope,
        cursor: position && { createdAt: position.at, number: position.key },
        limit,
      });
      return {
        items: page.tickets.map((ticket) => present(ticket, actor)),
        nextCursor: page.next
          ? positionCursor.encode({ at: page.next.createdAt, key: page.next.number })
          : null,
      };
    },
  );
};
