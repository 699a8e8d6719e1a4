import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { TicketScope } from '../domain/access';
import type { Database } from './client';
import { escalations, tickets } from './schema';
import { scopeCondition } from './ticket-store';

/** The escalations register behind `GET /v1/escalations`. */
export interface EscalationFilters {
  readonly ticket?: string;
  readonly level?: number;
  readonly reason?: string;
  /** true: nobody acknowledged it and it has not climbed on; false: the others. */
  readonly open?: boolean;
  /** Fired at or after this instant. */
  readonly firedFrom?: string;
  /** Fired before this instant. */
  readonly firedTo?: string;
}

export interface EscalationCursor {
  readonly firedAt: string;
  readonly id: string;
}

const instant = (value: string | null) => (value === null ? null : new Date(value).toISOString());

/**
 * The fire time to the microsecond, as PostgreSQL holds it: a millisecond cursor would skip rows that
 * fired within the same millisecond as the last row of a page.
 */
const exactFiredAt = sql<string>`to_char(${escalations.firedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A page of escalations, newest first, in a stable order (fire time, then id). */
export async function listEscalations(
  db: Database,
  query: { filters: EscalationFilters; scope: TicketScope; cursor?: EscalationCursor; limit: number },
) {
  const { filters, scope, cursor, limit } = query;
  const conditions: SQL[] = [];
  // Only the escalations of tickets the actor may see (an agent under agentScope "own").
  const inScope = scopeCondition(scope);
  if (inScope) {
    conditions.push(
      inArray(escalations.ticketNumber, db.select({ number: tickets.number }).from(tickets).where(inScope)),
    );
  }
  if (filters.ticket) conditions.push(eq(escalations.ticketNumber, filters.ticket));
  if (filters.level !== undefined) conditions.push(eq(escalations.level, filters.level));
  if (filters.reason) conditions.push(eq(escalations.reason, filters.reason));
  const openCondition = and(isNull(escalations.acknowledgedAt), isNull(escalations.supersededBy));
  const closedCondition = or(isNotNull(escalations.acknowledgedAt), isNotNull(escalations.supersededBy));
  if (filters.open === true && openCondition) conditions.push(openCondition);
  if (filters.open === false && closedCondition) conditions.push(closedCondition);
  if (filters.firedFrom) conditions.push(gte(escalations.firedAt, filters.firedFrom));
  if (filters.firedTo) conditions.push(lt(escalations.firedAt, filters.firedTo));
  if (cursor) {
    conditions.push(
      sql`(${escalations.firedAt}, ${escalations.id}) < (${cursor.firedAt}::timestamptz, ${cursor.id})`,
    );
  }
  const rows = await db
    .select({ row: escalations, exactFiredAt })
    .from(escalations)
    .where(and(...conditions))
    .orderBy(desc(escalations.firedAt), desc(escalations.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const items = page.map(({ row }) => ({
    ...row,
    missedDeadline: new Date(row.missedDeadline).toISOString(),
    firedAt: new Date(row.firedAt).toISOString(),
    recordedAt: new Date(row.recordedAt).toISOString(),
    acknowledgedAt: instant(row.acknowledgedAt),
    open: row.acknowledgedAt === null && row.supersededBy === null,
  }));
  return {
    escalations: items,
    next: rows.length > limit && last ? { firedAt: last.exactFiredAt, id: last.row.id } : undefined,
  };
}
