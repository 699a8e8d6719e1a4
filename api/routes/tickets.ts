import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { listTicketEvents } from '../../db/ticket-store';
import type { Database } from '../../db/client';
import { ACTION_NAMES, actionInputSchemas } from '../../domain/lifecycle';
import { ticketIntakeSchema } from '../../domain/ticket';
import { ticketView } from '../../domain/view';
import type { TicketService } from '../ticket-service';

const ticketParams = z.object({ number: z.string().min(1).max(40) });
const idempotencyHeaders = z.object({ 'idempotency-key': z.string().min(1).max(200).optional() });

export interface TicketRoutesOptions {
  readonly tickets: TicketService;
  readonly db: Database;
}

/** `/v1/tickets`: create, read, timeline and the lifecycle actions. */
export const ticketRoutes: FastifyPluginAsyncZod<TicketRoutesOptions> = async (app, { tickets, db }) => {
  app.post(
    '/tickets',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Open a ticket; its first-response clock starts now',
        headers: idempotencyHeaders,
        body: ticketIntakeSchema,
      },
    },
    async (request, reply) => {
      const { ticket, replayed } = await tickets.createTicket(
        request.body,
        request.actor,
        request.headers['idempotency-key'],
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply
        .code(201)
        .header('location', `/v1/tickets/${ticket.number}`)
        .send(ticketView(ticket, Date.now()));
    },
  );

  app.get(
    '/tickets/:number',
    { schema: { tags: ['tickets'], summary: 'One ticket with its live SLA clocks', params: ticketParams } },
    async (request) => ticketView(await tickets.requireTicket(request.params.number), Date.now()),
  );

  app.get(
    '/tickets/:number/events',
    {
      schema: {
        tags: ['tickets'],
        summary: 'The timeline: transitions, escalations and notifications, oldest first',
        params: ticketParams,
      },
    },
    async (request) => {
      const ticket = await tickets.requireTicket(request.params.number);
      const events = await listTicketEvents(db, ticket.number);
      return {
        number: ticket.number,
        events: events.map((event) => ({ ...event, at: new Date(event.at).toISOString() })),
      };
    },
  );

  for (const action of ACTION_NAMES) {
    app.post(
      `/tickets/:number/${action}`,
      {
        schema: {
          tags: ['actions'],
          summary: `Lifecycle action: ${action}`,
          params: ticketParams,
          body: actionInputSchemas[action],
        },
        // An action without fields may be sent with no body at all.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request) => {
        const state = await tickets.runAction(request.params.number, action, request.body, request.actor);
        return ticketView(state, Date.now());
      },
    );
  }
};
