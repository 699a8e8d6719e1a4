import {
  and,
  asc,
  desc,
  eq,
  fillPlaceholders,
  getTableColumns,
  gt,
  gte,
  ilike,
  inArray,
  lt,
  lte,
  or,
  sql,
  type SQL,
} from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { TicketScope } from '../domain/access';
import { isSlaBreached, nextDeadline } from '../domain/clocks';
import { holdsEngineer } from '../domain/lifecycle';
import type { TicketChange, TicketState } from '../domain/ticket';
import type { Database, Transaction } from './client';
import { DELIVERY_CHANNEL } from './delivery-store';
import type { FieldCipher } from './field-cipher';
import { preparedQuery } from './prepared';
import { escalations, idempotencyKeys, ticketEvents, ticketNumberCounters, tickets } from './schema';
import { openTicketRow, sealPersonalData } from './ticket-pii';

/** Reads and idempotent writes of the ticket projection, shared by activities and the API. */

function ticketRow(state: TicketState, cipher: FieldCipher) {
  const next = nextDeadline(state);
  const { stored, pii } = sealPersonalData(cipher, state);
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
    state: stored,
    pii,
  };
}

const TICKET_COLUMNS = Object.entries(getTableColumns(tickets));
const TICKET_COLUMN_LIST = sql.raw(TICKET_COLUMNS.map(([, column]) => `"${column.name}"`).join(', '));

/** An upsert's update takes the proposed row (`excluded`), so the state is sent and encoded once. */
const UPDATE_FROM_EXCLUDED = sql.raw(
  TICKET_COLUMNS.filter(([key]) => key !== 'number')
    .map(([, column]) => `"${column.name}" = excluded."${column.name}"`)
    .join(', '),
);

const json = (value: unknown) => JSON.stringify(value);
const value = (name: string) => sql.placeholder(name);

/**
 * The one statement of saveTicketChange, built once (text and parameter list) in its two forms: the
 * change leaves the ticket with an engineer, or with none.
 */
function saveStatement(assignment: SQL) {
  const row = sql.join(
    TICKET_COLUMNS.map(([key, column]) => sql.param(value(`column_${key}`), column)),
    sql`, `,
  );
  return new PgDialect().sqlToQuery(sql`
    with written as (
      insert into tickets (${TICKET_COLUMN_LIST}) values (${row})
      on conflict (number) do update set ${UPDATE_FROM_EXCLUDED}
      where tickets.version <= excluded.version
      returning number
    ),
    event_rows as (
      select * from jsonb_to_recordset(${value('events')}::jsonb)
        as e(seq integer, type text, at timestamptz, actor_id text, actor_role text, data jsonb)
    ),
    notification_rows as (
      select * from jsonb_to_recordset(${value('notifications')}::jsonb)
        as n(key text, kind text, recipient_role text, channel text, at timestamptz, data jsonb)
    ),
    delivery_rows as (
      select n.key as id, 'notification' as kind, n.channel, null::text as subscription_id,
             null::integer as event_seq
      from notification_rows n
      union all
      select 'wh:' || s.id || ':' || ${value('number')}::text || ':' || e.seq, 'webhook', 'webhook', s.id, e.seq
      from event_rows e
      join webhook_subscriptions s on s.active and (s.event_types ? '*' or s.event_types ? e.type)
    ),
    timeline as (
      insert into ticket_events (ticket_number, seq, type, at, actor_id, actor_role, data)
      select ${value('number')}::text, seq, type, at, actor_id, actor_role, data from event_rows
      on conflict (ticket_number, seq) do update
      set type = excluded.type, at = excluded.at, actor_id = excluded.actor_id,
          actor_role = excluded.actor_role, data = excluded.data
    ),
    opened_escalations as (
      insert into escalations (id, ticket_number, clock, level, reason, missed_deadline, fired_at,
                               acknowledged_at, acknowledged_by, superseded_by)
      select id, ${value('number')}::text, clock, level, reason, missed_deadline, fired_at,
             acknowledged_at, acknowledged_by, superseded_by
      from jsonb_to_recordset(${value('escalations')}::jsonb)
        as x(id text, clock text, level smallint, reason text, missed_deadline timestamptz,
             fired_at timestamptz, acknowledged_at timestamptz, acknowledged_by text, superseded_by text)
      on conflict do nothing
    ),
    updated_escalations as (
      update escalations
      set acknowledged_at = coalesce(escalations.acknowledged_at, u.acknowledged_at),
          acknowledged_by = coalesce(escalations.acknowledged_by, u.acknowledged_by),
          superseded_by = coalesce(escalations.superseded_by, u.superseded_by)
      from jsonb_to_recordset(${value('escalationUpdates')}::jsonb)
        as u(id text, acknowledged_at timestamptz, acknowledged_by text, superseded_by text)
      where escalations.id = u.id
    ),
    recorded_notifications as (
      insert into notifications (key, ticket_number, kind, recipient_role, channel, at, data)
      select key, ${value('number')}::text, kind, recipient_role, channel, at, data from notification_rows
      on conflict (key) do update
      set kind = excluded.kind, recipient_role = excluded.recipient_role, channel = excluded.channel,
          at = excluded.at, data = excluded.data
    ),
    queued_deliveries as (
      insert into deliveries (id, ticket_number, version, kind, channel, subscription_id, event_seq)
      select id, ${value('number')}::text, ${value('version')}::integer, kind, channel, subscription_id,
             event_seq
      from delivery_rows
      on conflict do nothing
    ),
    assignment as (${assignment})
    select id, pg_notify(${sql.raw(`'${DELIVERY_CHANNEL}'`)}, '') from delivery_rows`);
}

// Only a row this change wrote (the newest version) decides who holds the ticket's work.
const SAVE_WITH_ENGINEER = saveStatement(sql`
  insert into ticket_assignments (ticket_number, engineer_id, attempt, active, assigned_at)
  select number, ${value('assignee')}::text, ${value('attempt')}::integer, true,
         ${value('updatedAt')}::timestamptz
  from written
  on conflict (ticket_number) do update set engineer_id = excluded.engineer_id, active = true`);
const SAVE_WITHOUT_ENGINEER = saveStatement(sql`
  update ticket_assignments set active = false
  where ticket_number = (select number from written)`);

/**
 * Writes a ticket's new state and what the change recorded as one statement: the row, the
 * timeline, escalations, notifications, deliveries, the engineer's load and updates of earlier
 * escalations are data-modifying CTEs, so the write is atomic without a transaction and costs one
 * round trip (on a busy machine a round trip, not the SQL, is what a write costs). Its text does not
 * depend on how many events or escalations the change holds (they go as JSON arrays), so it is a
 * statement prepared once per connection, and built once per process. Every write is keyed
 * deterministically (ticket number + version, event sequence, escalation id, notification key), so
 * a retry after a crash changes nothing that was already written. For the row (at an equal version),
 * the timeline and notifications the last write of a key wins: a local activity may also have run in
 * a workflow execution whose task the server did not keep (seen with many Updates at once on one
 * ticket), and the execution that was kept writes the same keys after it. Escalations and queued
 * deliveries keep their first write.
 *
 * Answers the ids of the change's deliveries, already written or not: one per notification and one
 * per event and matching active webhook subscription. Queuing any NOTIFYs the delivery relays, which
 * hear it when the statement commits.
 */
export async function saveTicketChange(
  db: Database,
  state: TicketState,
  change: TicketChange,
): Promise<string[]> {
  const row: Record<string, unknown> = ticketRow(state, db.$cipher);
  // Every statement of a WITH sees the same snapshot, so an update cannot see an escalation this
  // change opens: such an update is folded into the new row instead.
  const updates = new Map(change.escalationUpdates.map((update) => [update.id, update]));
  const newEscalations = change.escalations.map((escalation) => {
    const update = updates.get(escalation.id);
    return {
      id: escalation.id,
      clock: escalation.clock,
      level: escalation.level,
      reason: escalation.reason,
      missed_deadline: escalation.missedDeadline,
      fired_at: escalation.firedAt,
      acknowledged_at: update?.acknowledgedAt ?? null,
      acknowledged_by: update?.acknowledgedBy ?? null,
      superseded_by: update?.supersededBy ?? null,
    };
  });
  const events = change.events.map((event) => ({
    seq: event.seq,
    type: event.type,
    at: event.at,
    actor_id: event.actor?.id ?? null,
    actor_role: event.actor?.role ?? null,
    data: event.data,
  }));
  const notifications = change.notifications.map((notification) => ({
    key: notification.key,
    kind: notification.kind,
    recipient_role: notification.recipientRole,
    channel: notification.channel,
    at: notification.at,
    data: notification.data,
  }));
  const escalationUpdates = change.escalationUpdates.map((update) => ({
    id: update.id,
    acknowledged_at: update.acknowledgedAt ?? null,
    acknowledged_by: update.acknowledgedBy ?? null,
    superseded_by: update.supersededBy ?? null,
  }));
  const withEngineer = holdsEngineer(state) && Boolean(state.assignee);
  const statement = withEngineer ? SAVE_WITH_ENGINEER : SAVE_WITHOUT_ENGINEER;
  const values: Record<string, unknown> = {
    number: state.number,
    version: state.version,
    events: json(events),
    notifications: json(notifications),
    escalations: json(newEscalations),
    escalationUpdates: json(escalationUpdates),
    ...(withEngineer && {
      assignee: state.assignee,
      attempt: state.dispatch.attempt,
      updatedAt: state.updatedAt,
    }),
  };
  for (const [key] of TICKET_COLUMNS) values[`column_${key}`] = row[key];
  const rows = await db.$client.unsafe<{ id: string }[]>(
    statement.sql,
    fillPlaceholders(statement.params, values) as never[],
  );
  return rows.map((delivery) => delivery.id);
}

/**
 * The customer's latest earlier ticket for the same product (same serial number, or the same model
 * when no serial was given) since `sinceIso`: a repeat fault, always quality-checked.
 */
export async function findRecentTicketForProduct(
  db: Database,
  query: { customerId: string; model?: string; serialNumber?: string; sinceIso: string },
): Promise<string | undefined> {
  const [product, productValue] = query.serialNumber
    ? (['serialNumber', query.serialNumber] as const)
    : query.model
      ? (['productModel', query.model] as const)
      : [];
  if (!product) return undefined;
  const latest = preparedQuery(db, `latest_ticket_by_${product}`, (database, name) =>
    database
      .select({ number: tickets.number })
      .from(tickets)
      .where(
        and(
          eq(tickets.customerId, sql.placeholder('customerId')),
          gte(tickets.createdAt, sql.placeholder('sinceIso')),
          eq(tickets[product], sql.placeholder('product')),
        ),
      )
      .orderBy(desc(tickets.createdAt))
      .limit(1)
      .prepare(name),
  );
  const [row] = await latest.execute({
    customerId: query.customerId,
    sinceIso: query.sinceIso,
    product: productValue,
  });
  return row?.number;
}

export async function findTicket(db: Database, number: string): Promise<TicketState | undefined> {
  const find = preparedQuery(db, 'find_ticket', (database, name) =>
    database
      .select({ state: tickets.state, pii: tickets.pii })
      .from(tickets)
      .where(eq(tickets.number, sql.placeholder('number')))
      .prepare(name),
  );
  const [row] = await find.execute({ number });
  return row && openTicketRow(db.$cipher, row);
}

/** A page of a ticket's timeline: the events after `afterSeq`, at most `limit` (all when not given). */
export async function listTicketEvents(
  db: Database,
  number: string,
  page: { readonly afterSeq?: number; readonly limit?: number } = {},
) {
  const query = db
    .select({
      seq: ticketEvents.seq,
      type: ticketEvents.type,
      at: ticketEvents.at,
      actorId: ticketEvents.actorId,
      actorRole: ticketEvents.actorRole,
      data: ticketEvents.data,
    })
    .from(ticketEvents)
    .where(
      and(
        eq(ticketEvents.ticketNumber, number),
        page.afterSeq === undefined ? undefined : gt(ticketEvents.seq, page.afterSeq),
      ),
    )
    .orderBy(asc(ticketEvents.seq))
    .$dynamic();
  return page.limit === undefined ? query : query.limit(page.limit);
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
  /** The first request succeeded: a repeat is answered with the ticket as it is now. */
  readonly completed: boolean;
}

interface TicketNumberRequest {
  readonly businessDate: string;
  readonly createdAt: string;
  readonly formatNumber: (serial: number) => string;
  /** With an Idempotency-Key: the first request under it fixes the number and the creation time. */
  readonly idempotency?: IdempotencyClaim;
}

interface IdempotencyClaim {
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
  /** ISO instant the claim lapses: after it, the key is free again (and retention deletes it). */
  readonly expiresAt: string;
}

/** An insert of a claim that takes over an expired claim of the same key, and leaves a live one be. */
const CLAIM_UNLESS_LIVE = {
  target: [idempotencyKeys.scope, idempotencyKeys.key],
  set: {
    requestHash: sql`excluded.request_hash`,
    ticketNumber: sql`excluded.ticket_number`,
    createdAt: sql`excluded.created_at`,
    completedVersion: sql`null`,
    expiresAt: sql`excluded.expires_at`,
  },
  setWhere: lte(idempotencyKeys.expiresAt, sql`now()`),
};

class LostIdempotencyRace extends Error {}

const NEXT_SERIAL = 'next_ticket_serial';

/** The next serial of a business date: one upsert of its counter row. */
const nextSerial = (executor: Database | Transaction, name: string) =>
  executor
    .insert(ticketNumberCounters)
    .values({ businessDate: sql.placeholder('businessDate'), lastSerial: 1 })
    .onConflictDoUpdate({
      target: ticketNumberCounters.businessDate,
      set: { lastSerial: sql`${ticketNumberCounters.lastSerial} + 1` },
    })
    .returning({ serial: ticketNumberCounters.lastSerial })
    .prepare(name);

/**
 * Allocates the next serial of a business date, atomically, together with the Idempotency-Key claim.
 * A request that loses the race for a key rolls its serial back, so a race leaves no gap and a repeat
 * gets the first request's claim instead of a second ticket. The serial is committed before the
 * workflow starts (the number is its id, and PostgreSQL and Temporal cannot commit together): a
 * start that fails leaves its number unused, unless a repeat with the same key finishes it.
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
    // Outside a transaction the statement is the handle's, built once; inside, the transaction's.
    const next =
      executor === db ? preparedQuery(db, NEXT_SERIAL, nextSerial) : nextSerial(executor, NEXT_SERIAL);
    const [counter] = await next.execute({ businessDate: request.businessDate });
    return request.formatNumber(counter?.serial ?? 0);
  };
  // Without a key the serial is one atomic statement; with one, the claim shares its transaction.
  if (!idempotency) {
    const ticketNumber = await nextNumber(db);
    return { ticketNumber, createdAt: request.createdAt, requestHash: '', fresh: true, completed: false };
  }
  try {
    return await db.transaction(async (tx) => {
      const ticketNumber = await nextNumber(tx);
      const [inserted] = await tx
        .insert(idempotencyKeys)
        .values({ ...idempotency, ticketNumber, createdAt: request.createdAt })
        .onConflictDoUpdate(CLAIM_UNLESS_LIVE)
        .returning();
      if (!inserted) throw new LostIdempotencyRace();
      return {
        ticketNumber,
        createdAt: request.createdAt,
        requestHash: idempotency.requestHash,
        fresh: true,
        completed: false,
      };
    });
  } catch (error) {
    if (!(error instanceof LostIdempotencyRace)) throw error;
    const winner = await findClaim(db, idempotency.scope, idempotency.key);
    if (!winner) throw new Error('the winning Idempotency-Key claim is missing', { cause: error });
    return winner;
  }
}

/** The live claim of a key (an expired one is as good as none). */
async function findClaim(db: Database, scope: string, key: string): Promise<TicketNumberClaim | undefined> {
  const [row] = await db
    .select({
      ticketNumber: idempotencyKeys.ticketNumber,
      createdAt: idempotencyKeys.createdAt,
      requestHash: idempotencyKeys.requestHash,
      completedVersion: idempotencyKeys.completedVersion,
    })
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.scope, scope),
        eq(idempotencyKeys.key, key),
        sql`${idempotencyKeys.expiresAt} > now()`,
      ),
    );
  return (
    row && {
      ticketNumber: row.ticketNumber,
      requestHash: row.requestHash,
      createdAt: new Date(row.createdAt).toISOString(),
      fresh: false,
      completed: row.completedVersion !== null,
    }
  );
}

/**
 * Claims an Idempotency-Key for a lifecycle action, or returns the claim an earlier request holds
 * (whose `requestHash` tells whether it was the same request).
 */
export async function claimActionKey(
  db: Database,
  claim: IdempotencyClaim & { ticketNumber: string },
): Promise<TicketNumberClaim> {
  const [inserted] = await db
    .insert(idempotencyKeys)
    .values({ ...claim, createdAt: new Date().toISOString() })
    .onConflictDoUpdate(CLAIM_UNLESS_LIVE)
    .returning();
  if (inserted) {
    return {
      ticketNumber: inserted.ticketNumber,
      requestHash: inserted.requestHash,
      createdAt: new Date(inserted.createdAt).toISOString(),
      fresh: true,
      completed: false,
    };
  }
  const existing = await findClaim(db, claim.scope, claim.key);
  if (!existing) throw new Error('the Idempotency-Key claim vanished');
  return existing;
}

/**
 * Marks the request under a key done, with the ticket version it answered (the first success is
 * kept). Only the version: repeats are answered from the ticket's projection, so the claim holds no
 * copy of the ticket and its personal data.
 */
export async function recordIdempotentCompletion(
  db: Database,
  scope: string,
  key: string,
  version: number,
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ completedVersion: sql`coalesce(${idempotencyKeys.completedVersion}, ${version}::integer)` })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
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
  /** One customer's tickets (the customer file). */
  readonly customerId?: string;
}

export interface TicketCursor {
  readonly createdAt: string;
  readonly number: string;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/**
 * The tickets a scope lets its actor see, as a condition on the `tickets` table (undefined: all), so
 * a page and its cursor count only those. The `agent` kind is domain/access.ts's agentMaySee asked of
 * the projected state: the ticket's `agentScope` and `acknowledgedBy` (absent or JSON null: nobody
 * acknowledged it), and its assignee.
 */
export function scopeCondition(scope: TicketScope): SQL | undefined {
  if (scope.kind === 'createdBy') return eq(tickets.createdBy, scope.actorId);
  if (scope.kind === 'assignee') return eq(tickets.assignee, scope.actorId);
  if (scope.kind === 'agent') {
    return sql`(${tickets.state}->>'agentScope' is distinct from 'own'
      or ${tickets.state}->'acknowledgedBy'->>'id' is null
      or ${tickets.state}->'acknowledgedBy'->>'id' = ${scope.actorId}
      or ${tickets.assignee} = ${scope.actorId})`;
  }
  return undefined;
}

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
  const inScope = scopeCondition(scope);
  if (inScope) conditions.push(inScope);
  if (filters.status?.length) conditions.push(inArray(tickets.status, [...filters.status]));
  if (filters.priority?.length) conditions.push(inArray(tickets.priority, [...filters.priority]));
  if (filters.category?.length) conditions.push(inArray(tickets.category, [...filters.category]));
  if (filters.channel?.length) conditions.push(inArray(tickets.channel, [...filters.channel]));
  if (filters.assignee) conditions.push(eq(tickets.assignee, filters.assignee));
  if (filters.customerId) conditions.push(eq(tickets.customerId, filters.customerId));
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
    .select({ state: tickets.state, pii: tickets.pii, createdAt: tickets.createdAt, number: tickets.number })
    .from(tickets)
    .where(and(...conditions))
    .orderBy(desc(tickets.createdAt), desc(tickets.number))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    tickets: page.map((row) => openTicketRow(db.$cipher, row)),
    next:
      rows.length > limit && last
        ? { createdAt: new Date(last.createdAt).toISOString(), number: last.number }
        : undefined,
  };
}
