import { log } from '@temporalio/activity';
import type { Database } from '../db/client';
import { saveTicketChange } from '../db/ticket-store';
import type { TicketChange, TicketState } from '../domain/ticket';

export interface ActivityDependencies {
  readonly db: Database;
}

export interface RecordTicketChangeInput {
  readonly ticket: TicketState;
  readonly change: TicketChange;
}

/** The ticket workflow's I/O. Every activity is idempotent: a retry writes nothing twice. */
export function createActivities({ db }: ActivityDependencies) {
  return {
    async recordTicketChange({ ticket, change }: RecordTicketChangeInput): Promise<void> {
      await saveTicketChange(db, ticket, change);
      log.info('ticket change recorded', {
        ticketNumber: ticket.number,
        version: ticket.version,
        events: change.events.map((event) => event.type),
        escalations: change.escalations.map((escalation) => escalation.id),
      });
    },
  };
}

export type TicketActivities = ReturnType<typeof createActivities>;
