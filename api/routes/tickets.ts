import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { listTicketNotifications } from '../../db/delivery-store';
import { listTickets, listTicketEvents } from '../../db/ticket-store';
import { maySeePersonalData, maySeeStaffNotes, ticketScope } from '../../domain/access';
import { ACTION_NAMES, actionInputSchema } from '../../domain/lifecycle';
import { maskContact } from '../../domain/masking';
import {
  CATEGORIES,
  CHANNELS,
  PRIORITIES,
  TICKET_STATUSES,
  type Actor,
  type TicketState,
} from '../../domain/ticket';
import { ticketIntakeSchema } from '../../domain/intake';
import { BLANK_MESSAGE, NOT_BLANK } from '../../domain/text-rules';
import {
  externalView,
  maskContactsInFreeText,
  maskedView,
  redactActorId,
  redactStaffData,
  ticketView,
  type TicketView,
} from '../../domain/view';
import { authorize } from '../authorize';
import { positionCursor, sequenceCursor } from '../cursor';
import { instantFilter } from '../instant-filter';
import {
  csv,
  idempotencyHeaders,
  notificationsSchema,
  problems,
  ticketPageSchema,
  ticketViewSchema,
  timelineSchema,
  wholeNumber,
} from '../schemas';
import type { TicketAnswer, TicketService } from '../ticket-service';

const ticketParams = z.object({ number: z.string().min(1).max(40) });

const listQuery = z
  .object({
    status: csv(TICKET_STATUSES),
    priority: csv(PRIORITIES),
    category: csv(CATEGORIES),
    channel: csv(CHANNELS),
    assignee: z.string().min(1).max(100).optional(),
    escalationLevel: wholeNumber(0, 3).optional(),
    breached: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional(),
    createdFrom: instantFilter().optional(),
    createdTo: instantFilter().optional(),
    q: z
      .string()
      .max(100)
      .trim()
      .regex(NOT_BLANK, BLANK_MESSAGE)
      .optional()
      .describe('text search on number, model and serial number'),
    limit: wholeNumber(1, 100).default(20),
    cursor: positionCursor.query,
  })
  .strict();

/** A system inbox, not a phone or address. */
const INBOX = /^(role|staff|engineer):/;

/**
 * A page of a ticket's events or notifications. The default is larger than any ticket's timeline in
 * practice, so a client that reads one page (as before these were paged) still sees it all.
 */
const subResourcePage = <C extends z.ZodType>(cursor: C) =>
  z.object({ limit: wholeNumber(1, 500).default(200), cursor }).strict();

/**
 * The ticket as this actor may see it: customer data masked for roles that may not see it (also the
 * phone numbers and e-mail addresses typed into its free text), and what staff wrote and who did it
 * left out for a client.
 */
export function present(state: TicketState, actor: Actor): TicketView {
  const view = ticketView(state, Date.now());
  const masked = maySeePersonalData(actor.role) ? view : maskedView(view);
  return maySeeStaffNotes(actor.role) ? masked : externalView(masked, actor.id);
}

/** An event's data as the actor may see it: without staff free text for a client, contacts masked in it for a masked role. */
function maskedData(data: Record<string, unknown>, may: { staff: boolean; clear: boolean }) {
  const shown = may.staff ? data : redactStaffData(data);
  return may.clear ? shown : maskContactsInFreeText(shown);
}

function answer(reply: FastifyReply, { ticket, replayed }: TicketAnswer, actor: Actor) {
  if (replayed) reply.header('idempotent-replayed', 'true');
  return present(ticket, actor);
}

export interface TicketRoutesOptions {
  readonly tickets: TicketService;
  readonly db: Database;
}

/** `/v1/tickets`: create, list, read, timeline and the lifecycle actions, each checked by role. */
export const ticketRoutes: FastifyPluginAsyncZod<TicketRoutesOptions> = async (app, { tickets, db }) => {
  app.post(
    '/tickets',
    {
      onRequest: authorize('ticket.create'),
      schema: {
        tags: ['tickets'],
        summary: 'Open a ticket; its first-response clock starts now',
        headers: idempotencyHeaders,
        body: ticketIntakeSchema,
        response: { 201: ticketViewSchema, ...problems(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const created = await tickets.createTicket(
        request.body,
        request.actor,
        request.headers['idempotency-key'],
      );
      reply.code(201).header('location', `/v1/tickets/${created.ticket.number}`);
      return answer(reply, created, request.actor);
    },
  );

  app.get(
    '/tickets',
    {
      onRequest: authorize('ticket.read'),
      schema: {
        tags: ['tickets'],
        summary: 'List tickets, newest first, with filters and cursor pagination',
        querystring: listQuery,
        response: { 200: ticketPageSchema, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const { limit, cursor, q, ...filters } = request.query;
      const position = cursor === undefined ? undefined : positionCursor.decode(cursor);
      const page = await listTickets(db, {
        filters: { ...filters, text: q },
        scope: ticketScope(request.actor),
        cursor: position && { createdAt: position.at, number: position.key },
        limit,
      });
      return {
        items: page.tickets.map((ticket) => present(ticket, request.actor)),
        nextCursor: page.next
          ? positionCursor.encode({ at: page.next.createdAt, key: page.next.number })
          : null,
      };
    },
  );

  app.get(
    '/tickets/:number',
    {
      onRequest: authorize('ticket.read'),
      schema: {
        tags: ['tickets'],
        summary: 'One ticket with its live SLA clocks',
        params: ticketParams,
        response: { 200: ticketViewSchema, ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) =>
      present(await tickets.requireTicket(request.params.number, request.actor), request.actor),
  );

  app.get(
    '/tickets/:number/events',
    {
      onRequest: authorize('ticket.read'),
      schema: {
        tags: ['tickets'],
        summary:
          'The timeline: transitions, escalations and notifications, oldest first, with cursor pagination',
        params: ticketParams,
        querystring: subResourcePage(sequenceCursor.query),
        response: { 200: timelineSchema, ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const afterSeq = cursor === undefined ? undefined : sequenceCursor.decode(cursor);
      const ticket = await tickets.requireTicket(request.params.number, request.actor);
      const rows = await listTicketEvents(db, ticket.number, { afterSeq, limit: limit + 1 });
      const events = rows.slice(0, limit);
      const last = events.at(-1);
      const staff = maySeeStaffNotes(request.actor.role);
      const clear = maySeePersonalData(request.actor.role);
      return {
        number: ticket.number,
        events: events.map((event) => ({
          ...event,
          at: new Date(event.at).toISOString(),
          ...(!staff && { actorId: redactActorId(event.actorId, request.actor.id) }),
          data: maskedData(event.data, { staff, clear }),
        })),
        nextCursor: rows.length > limit && last ? sequenceCursor.encode(last.seq) : null,
      };
    },
  );

  app.get(
    '/tickets/:number/notifications',
    {
      onRequest: authorize('ticket.read'),
      schema: {
        tags: ['tickets'],
        summary:
          'The ticket’s notifications: to whom, on which channel, in which language, and whether sent (oldest first, with cursor pagination)',
        params: ticketParams,
        querystring: subResourcePage(positionCursor.query),
        response: { 200: notificationsSchema, ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const position = cursor === undefined ? undefined : positionCursor.decode(cursor);
      const after = position && { at: position.at, id: position.key };
      const ticket = await tickets.requireTicket(request.params.number, request.actor);
      const clear = maySeePersonalData(request.actor.role);
      const rows = await listTicketNotifications(db, ticket.number, { after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      // A client sees what was sent to the customer, not the staff's internal notices.
      const visible = maySeeStaffNotes(request.actor.role)
        ? page
        : page.filter((row) => row.recipientRole === 'customer');
      return {
        number: ticket.number,
        nextCursor:
          rows.length > limit && last
            ? positionCursor.encode({ at: new Date(last.at).toISOString(), key: last.id })
            : null,
        items: visible.map(({ at: _at, ...row }) => ({
          ...row,
          // A phone or address (the customer's, or a staff member's by their own channel) is
          // masked; an inbox (`role:`, `staff:`, `engineer:`) is not personal data.
          recipient:
            row.recipient && !clear && !INBOX.test(row.recipient)
              ? maskContact(row.recipient)
              : row.recipient,
          createdAt: new Date(row.createdAt).toISOString(),
          deliveredAt: row.deliveredAt === null ? null : new Date(row.deliveredAt).toISOString(),
        })),
      };
    },
  );

  for (const action of ACTION_NAMES) {
    app.post(
      `/tickets/:number/${action}`,
      {
        onRequest: authorize(action),
        schema: {
          tags: ['actions'],
          summary: `Lifecycle action: ${action}`,
          params: ticketParams,
          headers: idempotencyHeaders,
          body: actionInputSchema(action),
          response: {
            200: ticketViewSchema,
            ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
          },
        },
        // An action without fields may be sent with no body at all.
        preValidation: async (request) => {
          // JSON `null` is a body, and not an object: it is refused like any other.
          if (request.body === undefined) request.body = {};
        },
      },
      async (request, reply) => {
        const result = await tickets.runAction(
          request.params.number,
          action,
          request.body,
          request.actor,
          request.headers['idempotency-key'],
        );
        return answer(reply, result, request.actor);
      },
    );
  }
};
