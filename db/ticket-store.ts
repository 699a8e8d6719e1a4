import { and, asc, desc, eq, getTableColumns, gte, ilike, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { TicketScope } from '../domain/access';
import { isSlaBreached, nextDeadline } from '../domain/clocks';
import { holdsEngineer } from '../domain/lifecycle';
import type { TicketChange, TicketState } from '../domain/ticket';
import type { Database } from './client';
import {
  deliveries,
  escalations,
  idempotencyKeys,
  notifications,
  ticketAssignments,
  ticketEvents,
  ticketNumberCounters,
  tickets,
  webhookSubscriptions,
} from './schema';

/** Reads and idempotent writes of the ticket projection, shared by activities and the API. */

function ticketRow(state: TicketState) {
  const next = nextDeadline(state);
  return {
    number: state.number,
    version: state.version,
    status: state.status,
    channel: state.intake.channel,
    category: state.intake.category,
    priority: state.intake.priority,
    escalationLevel: state.escalationLevel,
    assignee: state.assignee,
    slaBreached: isSlaBreached(state),
    nextDeadline: next ? new Date(next.dueAtMs).toISOString() : null,
    productModel: state.intake.product?.model ?? null,
    serialNumber: state.intake.product?.serialNumber ?? null,
    externalRef: state.intake.externalRef ?? null,
    createdBy: state.createdBy.id,
    customerId: state.customerId,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    state,
  };
}

/** An upsert's update takes the proposed row (`excluded`), so the state is sent and encoded once. */
const UPDATE_FROM_EXCLUDED = Object.fromEntries(
  Object.entries(getTableColumns(tickets))
    .filter(([key]) => key !== 'number')
    .map(([key, column]) => [key, sql.raw(`excluded."${column.name}"`)]),
);

/**
 * Writes a ticket's new state and what the change recorded, in one transaction. Every write is keyed
 * deterministically (ticket number + version, event sequence, escalation id, notification key), so a
 * retry after a crash changes nothing that was already written.
 *
 * The statements go out in pipelined rounds (postgres.js sends what is issued together in one write;
 * the order within a round is not fixed, so a round holds only statements that do not depend on each
 * other): the row and the webhook subscriptions; then the timeline, escalations, notifications,
 * deliveries and the engineer's load, which refer to the row; then updates of escalations, which may
 * refer to ones this change opened. Four or five round trips instead of nine or more: on a busy
 * machine a round trip, not the SQL, is what a write costs.
 */
export async function saveTicketChange(
  db: Database,
  state: TicketState,
  change: TicketChange,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    const [written, subscriptions] = await Promise.all([
      tx
        .insert(tickets)
        .values(ticketRow(state))
        .onConflictDoUpdate({
          target: tickets.number,
          set: UPDATE_FROM_EXCLUDED,
          setWhere: sql`${tickets.version} < excluded.version`,
        })
        .returning({ number: tickets.number }),
      change.events.length > 0
        ? tx
            .select({ id: webhookSubscriptions.id, eventTypes: webhookSubscriptions.eventTypes })
            .from(webhookSubscriptions)
            .where(eq(webhookSubscriptions.active, true))
        : [],
    ]);
    const deliveryRows = deliveriesOf(state, change, subscriptions);
    await Promise.all([
      ...timelineWrites(tx, state, change),
      // Only the newest version decides who holds the ticket's work (an engineer's open load).
      written.length > 0 ? syncAssignment(tx, state) : undefined,
      deliveryRows.length > 0 ? tx.insert(deliveries).values(deliveryRows).onConflictDoNothing() : undefined,
    ]);
    await Promise.all(
      change.escalationUpdates.map((update) =>
        tx
          .update(escalations)
          .set({
            acknowledgedAt: sql`coalesce(${escalations.acknowledgedAt}, ${update.acknowledgedAt ?? null}::timestamptz)`,
            acknowledgedBy: sql`coalesce(${escalations.acknowledgedBy}, ${update.acknowledgedBy ?? null})`,
            supersededBy: sql`coalesce(${escalations.supersededBy}, ${update.supersededBy ?? null})`,
          })
          .where(eq(escalations.id, update.id)),
      ),
    );
    return deliveryRows.map((delivery) => delivery.id);
  });
}

/** The change's events, new escalations and notifications: independent inserts. */
function timelineWrites(tx: Transaction, state: TicketState, change: TicketChange): PromiseLike<unknown>[] {
  const statements: PromiseLike<unknown>[] = [];
  if (change.events.length > 0) {
    statements.push(
      tx
        .insert(ticketEvents)
        .values(
          change.events.map((event) => ({
            ticketNumber: state.number,
            seq: event.seq,
            type: event.type,
            at: event.at,
            actorId: event.actor?.id ?? null,
            actorRole: event.actor?.role ?? null,
            data: event.data,
          })),
        )
        .onConflictDoNothing(),
    );
  }
  if (change.escalations.length > 0) {
    statements.push(tx.insert(escalations).values(change.escalations).onConflictDoNothing());
  }
  if (change.notifications.length > 0) {
    statements.push(tx.insert(notifications).values(change.notifications).onConflictDoNothing());
  }
  return statements;
}

/**
 * One delivery per notification and one per event and matching webhook subscription, keyed so a
 * retried write adds none. The same rows on a retry, as they are derived from the change: its
 * delivery workflow's work.
 */
function deliveriesOf(
  state: TicketState,
  change: TicketChange,
  subscriptions: readonly { id: string; eventTypes: string[] }[],
) {
  return [
    ...change.notifications.map((notification) => ({
      id: notification.key,
      ticketNumber: state.number,
      version: state.version,
      kind: 'notification' as const,
      channel: notification.channel,
    })),
    ...change.events.flatMap((event) =>
      subscriptions
        .filter(({ eventTypes }) => eventTypes.includes('*') || eventTypes.includes(event.type))
        .map((subscription) => ({
          id: `wh:${subscription.id}:${state.number}:${event.seq}`,
          ticketNumber: state.number,
          version: state.version,
          kind: 'webhook' as const,
          channel: 'webhook',
          subscriptionId: subscription.id,
          eventSeq: event.seq,
        })),
    ),
  ];
}

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

async function syncAssignment(tx: Transaction, state: TicketState): Promise<void> {
  if (holdsEngineer(state) && state.assignee) {
    await tx
      .insert(ticketAssignments)
      .values({
        ticketNumber: state.number,
        engineerId: state.assignee,
        attempt: state.dispatch.attempt,
        active: true,
        assignedAt: state.updatedAt,
      })
      .onConflictDoUpdate({
        target: ticketAssignments.ticketNumber,
        set: { engineerId: state.assignee, active: true },
      });
  } else {
    await tx
      .update(ticketAssignments)
      .set({ active: false })
      .where(eq(ticketAssignments.ticketNumber, state.number));
  }
}

/**
 * The customer's latest earlier ticket for the same product (same serial number, or the same model
 * when no serial was given) since `sinceIso`: a repeat fault, always quality-checked.
 */
export async function findRecentTicketForProduct(
  db: Database,
  query: { customerId: string; model?: string; serialNumber?: string; sinceIso: string },
): Promise<string | undefined> {
  const product = query.serialNumber
    ? eq(tickets.serialNumber, query.serialNumber)
    : query.model
      ? eq(tickets.productModel, query.model)
      : undefined;
  if (!product) return undefined;
  const [row] = await db
    .select({ number: tickets.number })
    .from(tickets)
    .where(and(eq(tickets.customerId, query.customerId), gte(tickets.createdAt, query.sinceIso), product))
    .orderBy(desc(tickets.createdAt))
    .limit(1);
  return row?.number;
}

export async function findTicket(db: Database, number: string): Promise<TicketState | undefined> {
  const [row] = await db.select({ state: tickets.state }).from(tickets).where(eq(tickets.number, number));
  return row?.state;
}

export async function listTicketEvents(db: Database, number: string) {
  return db
    .select({
      seq: ticketEvents.seq,
      type: ticketEvents.type,
      at: ticketEvents.at,
      actorId: ticketEvents.actorId,
      actorRole: ticketEvents.actorRole,
      data: ticketEvents.data,
    })
    .from(ticketEvents)
    .where(eq(ticketEvents.ticketNumber, number))
    .orderBy(asc(ticketEvents.seq));
}

export async function listTicketEscalations(db: Database, number: string) {
  return db
    .select()
    .from(escalations)
    .where(eq(escalations.ticketNumber, number))
    .orderBy(asc(escalations.firedAt));
}

export interface TicketNumberClaim {
  readonly ticketNumber: string;
  /** ISO instant the ticket was (first) created at. */
  readonly createdAt: string;
  readonly requestHash: string;
  /** False when an earlier request already holds the Idempotency-Key. */
  readonly fresh: boolean;
  /** The first request's answer, once it succeeded. */
  readonly response: TicketState | null;
}

interface TicketNumberRequest {
  readonly businessDate: string;
  readonly createdAt: string;
  readonly formatNumber: (serial: number) => string;
  /** With an Idempotency-Key: the first request under it fixes the number and the creation time. */
  readonly idempotency?: { readonly scope: string; readonly key: string; readonly requestHash: string };
}

class LostIdempotencyRace extends Error {}

/**
 * Allocates the next serial of a business date, atomically, together with the Idempotency-Key claim.
 * A request that loses the race for a key rolls its serial back, so numbers have no gaps and a repeat
 * gets the first request's claim instead of a second ticket.
 */
export async function claimTicketNumber(
  db: Database,
  request: TicketNumberRequest,
): Promise<TicketNumberClaim> {
  const { idempotency } = request;
  if (idempotency) {
    const existing = await findClaim(db, idempotency.scope, idempotency.key);
    if (existing) return existing;
  }
  const nextNumber = async (executor: Database | Transaction) => {
    const [counter] = await executor
      .insert(ticketNumberCounters)
      .values({ businessDate: request.businessDate, lastSerial: 1 })
      .onConflictDoUpdate({
        target: ticketNumberCounters.businessDate,
        set: { lastSerial: sql`${ticketNumberCounters.lastSerial} + 1` },
      })
      .returning({ serial: ticketNumberCounters.lastSerial });
    return request.formatNumber(counter?.serial ?? 0);
  };
  // Without a key the serial is one atomic statement; with one, the claim shares its transaction.
  if (!idempotency) {
    const ticketNumber = await nextNumber(db);
    return { ticketNumber, createdAt: request.createdAt, requestHash: '', fresh: true, response: null };
  }
  try {
    return await db.transaction(async (tx) => {
      const ticketNumber = await nextNumber(tx);
      const [inserted] = await tx
        .insert(idempotencyKeys)
        .values({ ...idempotency, ticketNumber, createdAt: request.createdAt })
        .onConflictDoNothing()
        .returning();
      if (!inserted) throw new LostIdempotencyRace();
      return {
        ticketNumber,
        createdAt: request.createdAt,
        requestHash: idempotency.requestHash,
        fresh: true,
        response: null,
      };
    });
  } catch (error) {
    if (!(error instanceof LostIdempotencyRace)) throw error;
    const winner = await findClaim(db, idempotency.scope, idempotency.key);
    if (!winner) throw new Error('the winning Idempotency-Key claim is missing', { cause: error });
    return winner;
  }
}

async function findClaim(db: Database, scope: string, key: string): Promise<TicketNumberClaim | undefined> {
  const [row] = await db
    .select({
      ticketNumber: idempotencyKeys.ticketNumber,
      createdAt: idempotencyKeys.createdAt,
      requestHash: idempotencyKeys.requestHash,
      response: idempotencyKeys.response,
    })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return row && { ...row, createdAt: new Date(row.createdAt).toISOString(), fresh: false };
}

/**
 * Claims an Idempotency-Key for a lifecycle action, or returns the claim an earlier request holds
 * (whose `requestHash` tells whether it was the same request).
 */
export async function claimActionKey(
  db: Database,
  claim: { scope: string; key: string; requestHash: string; ticketNumber: string },
): Promise<TicketNumberClaim> {
  const [inserted] = await db
    .insert(idempotencyKeys)
    .values({ ...claim, createdAt: new Date().toISOString() })
    .onConflictDoNothing()
    .returning();
  if (inserted) {
    return {
      ...inserted,
      createdAt: new Date(inserted.createdAt).toISOString(),
      fresh: true,
      response: null,
    };
  }
  const existing = await findClaim(db, claim.scope, claim.key);
  if (!existing) throw new Error('the Idempotency-Key claim vanished');
  return existing;
}

/** Keeps the first successful answer under a key; a later one never replaces it. One statement. */
export async function recordIdempotentResponse(
  db: Database,
  scope: string,
  key: string,
  response: TicketState,
): Promise<TicketState> {
  const [row] = await db
    .update(idempotencyKeys)
    .set({ response: sql`coalesce(${idempotencyKeys.response}, ${JSON.stringify(response)}::jsonb)` })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .returning({ response: idempotencyKeys.response });
  return row?.response ?? response;
}

export interface TicketFilters {
  readonly status?: readonly string[];
  readonly priority?: readonly string[];
  readonly category?: readonly string[];
  readonly channel?: readonly string[];
  readonly assignee?: string;
  readonly escalationLevel?: number;
  readonly breached?: boolean;
  readonly createdFrom?: string;
  readonly createdTo?: string;
  /** Matches the ticket number, product model or serial number (case-insensitive substring). */
  readonly text?: string;
}

export interface TicketCursor {
  readonly createdAt: string;
  readonly number: string;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/**
 * A page of tickets, newest first, in a stable order (creation time, then number) so a cursor never
 * skips or repeats a ticket while new ones arrive.
 */
export async function listTickets(
  db: Database,
  query: { filters: TicketFilters; scope: TicketScope; cursor?: TicketCursor; limit: number },
): Promise<{ tickets: TicketState[]; next?: TicketCursor }> {
  const { filters, scope, cursor, limit } = query;
  const conditions: SQL[] = [];
  if (scope.kind === 'createdBy') conditions.push(eq(tickets.createdBy, scope.actorId));
  if (scope.kind === 'assignee') conditions.push(eq(tickets.assignee, scope.actorId));
  if (filters.status?.length) conditions.push(inArray(tickets.status, [...filters.status]));
  if (filters.priority?.length) conditions.push(inArray(tickets.priority, [...filters.priority]));
  if (filters.category?.length) conditions.push(inArray(tickets.category, [...filters.category]));
  if (filters.channel?.length) conditions.push(inArray(tickets.channel, [...filters.channel]));
  if (filters.assignee) conditions.push(eq(tickets.assignee, filters.assignee));
  if (filters.escalationLevel !== undefined)
    conditions.push(eq(tickets.escalationLevel, filters.escalationLevel));
  if (filters.breached !== undefined) conditions.push(eq(tickets.slaBreached, filters.breached));
  if (filters.createdFrom) conditions.push(gte(tickets.createdAt, filters.createdFrom));
  if (filters.createdTo) conditions.push(lt(tickets.createdAt, filters.createdTo));
  if (filters.text) {
    const pattern = likePattern(filters.text);
    const textMatch = or(
      ilike(tickets.number, pattern),
      ilike(tickets.productModel, pattern),
      ilike(tickets.serialNumber, pattern),
    );
    if (textMatch) conditions.push(textMatch);
  }
  if (cursor) {
    conditions.push(
      sql`(${tickets.createdAt}, ${tickets.number}) < (${cursor.createdAt}::timestamptz, ${cursor.number})`,
    );
  }
  const rows = await db
    .select({ state: tickets.state, createdAt: tickets.createdAt, number: tickets.number })
    .from(tickets)
    .where(and(...conditions))
    .orderBy(desc(tickets.createdAt), desc(tickets.number))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    tickets: page.map((row) => row.state),
    next:
      rows.length > limit && last
        ? { createdAt: new Date(last.createdAt).toISOString(), number: last.number }
        : undefined,
  };
}
