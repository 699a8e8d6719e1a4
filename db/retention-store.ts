import { sql } from 'drizzle-orm';
import type { RetentionCounts } from '../domain/retention';
import type { Database } from './client';
import { FREE_TEXT_KEYS } from '../domain/view';
import { anonymiseStoredState, type StoredTicketState } from './ticket-pii';

/** What one retention run removes (see temporal/retention.ts for when it runs). */
export interface RetentionCutoffs {
  /** Finished tickets (closed past their reopen window, or cancelled) last changed before this lose their personal data. */
  readonly closedTicketsBefore: string;
  /** Delivered and failed deliveries queued before this are deleted, with their attempts and outbox copy. */
  readonly deliveriesBefore: string;
}

const BATCH = 500;

/**
 * Anonymises finished tickets past the cutoff: their sealed personal data is dropped, and the free
 * text of their actions (notes, reasons, comments, diagnoses) is removed from the state and the
 * timeline. What the reports count stays: status, category, priority, channel, clocks, the number
 * of service records, re-services, callback scores, costs, escalations. A ticket's workflow has
 * finished by then, so no later write brings the data back. In batches; each row is written only if
 * nothing changed it meanwhile.
 */
async function anonymiseFinishedTickets(db: Database, before: string): Promise<number> {
  let count = 0;
  for (;;) {
    const rows = await db.execute<{ number: string; version: number; state: StoredTicketState }>(sql`
      select number, version, state from tickets
      where pii is not null and updated_at < ${before}::timestamptz
        and (status = 'cancelled' or (status = 'closed' and state->>'archivedAt' is not null))
      limit ${BATCH}`);
    for (const row of rows) {
      await db.execute(sql`
        with ticket as (
          update tickets set pii = null, state = ${JSON.stringify(anonymiseStoredState(row.state))}::jsonb
          where number = ${row.number} and version = ${row.version}
          returning number
        )
        update ticket_events
        set data = data - array(select jsonb_array_elements_text(${JSON.stringify(FREE_TEXT_KEYS)}::jsonb))
        where ticket_number in (select number from ticket)`);
    }
    count += rows.length;
    if (rows.length < BATCH) return count;
  }
}

/** Deletes what has sent or given up before the cutoff: attempts, outbox copies, then the deliveries. */
async function purgeDeliveries(db: Database, before: string): Promise<number> {
  let count = 0;
  for (;;) {
    const rows = await db.execute<{ id: string }>(sql`
      with old as (
        select id from deliveries
        where status in ('delivered', 'failed') and created_at < ${before}::timestamptz
        limit ${BATCH}
      ),
      attempts as (delete from delivery_attempts where delivery_id in (select id from old)),
      outbox as (delete from outbox_messages where delivery_id in (select id from old))
      delete from deliveries where id in (select id from old)
      returning id`);
    count += rows.length;
    if (rows.length < BATCH) return count;
  }
}

export async function applyRetention(db: Database, cutoffs: RetentionCutoffs): Promise<RetentionCounts> {
  const anonymisedTickets = await anonymiseFinishedTickets(db, cutoffs.closedTicketsBefore);
  const expired = await db.execute<{ key: string }>(
    sql`delete from idempotency_keys where expires_at <= now() returning key`,
  );
  const purgedDeliveries = await purgeDeliveries(db, cutoffs.deliveriesBefore);
  return { anonymisedTickets, expiredIdempotencyKeys: expired.length, purgedDeliveries };
}
