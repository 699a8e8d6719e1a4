import { and, eq, notInArray } from 'drizzle-orm';
import type { TicketScope } from '../domain/access';
import type { TicketState } from '../domain/ticket';
import type { Database } from './client';
import { tickets } from './schema';
import { listTickets, type TicketCursor } from './ticket-store';

/** Statuses after which an engineer no longer holds a ticket for the customer file. */
const FINISHED = ['closed', 'cancelled'];

/** Whether the engineer is assigned one of the customer's tickets that is not closed or cancelled. */
export async function holdsOpenTicketOf(
  db: Database,
  engineerId: string,
  customerId: string,
): Promise<boolean> {
  const rows = await db
    .select({ number: tickets.number })
    .from(tickets)
    .where(
      and(
        eq(tickets.customerId, customerId),
        eq(tickets.assignee, engineerId),
        notInArray(tickets.status, FINISHED),
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/** A page of one customer's tickets within a scope, newest first (the order of the ticket list). */
export async function customerTickets(
  db: Database,
  query: { customerId: string; scope: TicketScope; cursor?: TicketCursor; limit: number },
): Promise<{ tickets: TicketState[]; next?: TicketCursor }> {
  return listTickets(db, {
    filters: { customerId: query.customerId },
    scope: query.scope,
    cursor: query.cursor,
    limit: query.limit,
  });
}
