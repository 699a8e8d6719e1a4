import { ticketScope, type TicketScope } from './access';
import type { Actor } from './ticket';

/** A CustomerId as `customerIdOf` makes it: "c_" and 32 hex digits of a keyed hash of the phone. */
export const CUSTOMER_ID_PATTERN = /^c_[0-9a-f]{32}$/;

/** Which of a customer's tickets an actor may read in the customer's file, or why none. */
export type CustomerFileAccess =
  | { readonly kind: 'scope'; readonly scope: TicketScope }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * The customer file (seed 004: the history an agent or engineer reads before a visit) follows the
 * ticket scopes of domain/access.ts, with one widening: an engineer reads a customer's whole history
 * while it holds one of that customer's open tickets (assigned and not closed or cancelled), and
 * none otherwise. A client still reads only the tickets it created, an agent under a ticket's
 * `agentScope: "own"` only its own and the unacknowledged ones; other staff read every ticket.
 */
export function customerFileAccess(actor: Actor, holdsOpenTicketOfCustomer: boolean): CustomerFileAccess {
  if (actor.role !== 'engineer') return { kind: 'scope', scope: ticketScope(actor) };
  if (holdsOpenTicketOfCustomer) return { kind: 'scope', scope: { kind: 'all' } };
  return {
    kind: 'refused',
    reason: "an engineer reads a customer's file only while it holds one of the customer's open tickets",
  };
}
