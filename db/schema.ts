import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  uniqueIndex,
  type AnyPgColumn,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { StoredTicketState } from './ticket-pii';
import type {
  LocationKind,
  MovementKind,
  MovementStatus,
  OldPartDisposition,
  ReservationStatus,
} from '../domain/parts';
import type { StaffChannel } from '../domain/staff';
import type { SummaryReport } from './report-store';
import type { Role } from '../domain/ticket';

/**
 * The queryable projection of ticket workflows. The workflow is the source of truth; every row here
 * is written by an idempotent activity (or, for a new ticket, by the API before it answers).
 */
const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const tickets = pgTable(
  'tickets',
  {
    number: text('number').primaryKey(),
    /** Only a newer version replaces a row, so out-of-order writes cannot roll a ticket back. */
    version: integer('version').notNull(),
    status: text('status').notNull(),
    channel: text('channel').notNull(),
    category: text('category').notNull(),
    priority: text('priority').notNull(),
    escalationLevel: smallint('escalation_level').notNull().default(0),
    assignee: text('assignee'),
    slaBreached: boolean('sla_breached').notNull().default(false),
    nextDeadline: instant('next_deadline'),
    productModel: text('product_model'),
    serialNumber: text('serial_number'),
    externalRef: text('external_ref'),
    createdBy: text('created_by').notNull(),
    /** Keyed hash of the customer's phone: finds the same customer's earlier tickets (repeat faults). */
    customerId: text('customer_id'),
    createdAt: instant('created_at').notNull(),
    updatedAt: instant('updated_at').notNull(),
    /** The ticket without its personal data, which `pii` holds sealed (see ticket-pii.ts). */
    state: jsonb('state').$type<StoredTicketState>().notNull(),
    /** Sealed customer name, contacts, address and description; null once anonymised (retention). */
    pii: text('pii'),
  },
  (table) => [
    index('tickets_status_idx').on(table.status),
    index('tickets_created_at_idx').on(table.createdAt, table.number),
    index('tickets_next_deadline_idx').on(table.nextDeadline),
    index('tickets_customer_idx').on(table.customerId, table.createdAt),
    check('tickets_escalation_level_range', sql`${table.escalationLevel} between 0 and 3`),
  ],
);

/** The timeline: every transition, escalation and notification of a ticket, in order. */
export const ticketEvents = pgTable(
  'ticket_events',
  {
    ticketNumber: text('ticket_number')
      .notNull()
      .references(() => tickets.number),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: instant('at').notNull(),
    actorId: text('actor_id'),
    actorRole: text('actor_role'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.ticketNumber, table.seq] })],
);

export const escalations = pgTable(
  'escalations',
  {
    /** `<number>:<clock>:<cycle>`: a retried write lands on the same row. */
    id: text('id').primaryKey(),
    ticketNumber: text('ticket_number')
      .notNull()
      .references(() => tickets.number),
    clock: text('clock').notNull(),
    level: smallint('level').notNull(),
    reason: text('reason').notNull(),
    missedDeadline: instant('missed_deadline').notNull(),
    firedAt: instant('fired_at').notNull(),
    /** When the row was committed: with `missedDeadline`, how late the escalation really landed. */
    recordedAt: instant('recorded_at').notNull().defaultNow(),
    acknowledgedAt: instant('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    /** Set when nobody acknowledged it within the escalation step and it climbed one level. */
    supersededBy: text('superseded_by'),
  },
  (table) => [
    index('escalations_ticket_idx').on(table.ticketNumber),
    index('escalations_fired_at_idx').on(table.firedAt),
    index('escalations_level_idx').on(table.level),
  ],
);

/** Field engineers that tickets are dispatched to. */
export const engineers = pgTable(
  'engineers',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** Product lines the engineer may service. */
    skills: jsonb('skills').$type<string[]>().notNull(),
    /** Service regions the engineer covers. */
    regions: jsonb('regions').$type<string[]>().notNull(),
    latitude: doublePrecision('latitude'),
    longitude: doublePrecision('longitude'),
    /** Open tickets the engineer may hold at once. */
    capacity: integer('capacity').notNull().default(3),
    active: boolean('active').notNull().default(true),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [check('engineers_capacity_positive', sql`${table.capacity} > 0`)],
);

/**
 * The staff directory (domain/staff.ts): how a named person is reached and who their superior is,
 * keyed by the actor id their API key names (an engineer's by its engineer id). Phone and e-mail are
 * sealed like the customer's (field-cipher.ts).
 */
export const staff = pgTable(
  'staff',
  {
    id: text('id').primaryKey(),
    role: text('role').$type<Role>().notNull(),
    name: text('name').notNull(),
    phone: text('phone'),
    email: text('email'),
    /** The channel notices to this person go by: internal (system message), sms or email. */
    notifyBy: text('notify_by').$type<StaffChannel>().notNull().default('internal'),
    superiorId: text('superior_id').references((): AnyPgColumn => staff.id),
    active: boolean('active').notNull().default(true),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    check('staff_notify_by', sql`${table.notifyBy} in ('internal', 'sms', 'email')`),
    check('staff_not_own_superior', sql`${table.superiorId} is null or ${table.superiorId} <> ${table.id}`),
  ],
);

/**
 * Who holds each ticket's work now: the open load that dispatch counts. Written in the same
 * transaction that picks an engineer, so two tickets dispatched at once cannot both take the last
 * free place; released when the ticket's projection no longer names the engineer.
 */
export const ticketAssignments = pgTable(
  'ticket_assignments',
  {
    ticketNumber: text('ticket_number')
      .primaryKey()
      .references(() => tickets.number),
    engineerId: text('engineer_id')
      .notNull()
      .references(() => engineers.id),
    /** The ticket's dispatch attempt this assignment answered: a retried dispatch finds it again. */
    attempt: integer('attempt').notNull(),
    active: boolean('active').notNull(),
    assignedAt: instant('assigned_at').notNull(),
  },
  (table) => [index('ticket_assignments_engineer_idx').on(table.engineerId, table.active)],
);

/**
 * Messages handed to the notification provider; the development provider stops here. A staff notice
 * about stock (a part fell below its safety stock) is about no ticket.
 */
export const notifications = pgTable(
  'notifications',
  {
    key: text('key').primaryKey(),
    ticketNumber: text('ticket_number').references(() => tickets.number),
    kind: text('kind').notNull(),
    recipientRole: text('recipient_role').notNull(),
    channel: text('channel').notNull(),
    at: instant('at').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  },
  (table) => [index('notifications_ticket_idx').on(table.ticketNumber)],
);

/** The daily serial behind `WO<YYYYMMDD>-<NNN>`, per business-time-zone date. */
export const ticketNumberCounters = pgTable('ticket_number_counters', {
  businessDate: text('business_date').primaryKey(),
  lastSerial: integer('last_serial').notNull(),
});

/**
 * `Idempotency-Key` claims. The first request under a key fixes the ticket number and creation time;
 * once it has succeeded, `completed_version` holds the ticket version it answered with, and a repeat
 * is answered from the ticket's projection (no copy of the answer, so no personal data, is kept
 * here). A claim lasts until `expires_at` (IDEMPOTENCY_KEY_TTL); retention deletes expired ones.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    ticketNumber: text('ticket_number').notNull(),
    createdAt: instant('created_at').notNull(),
    completedVersion: integer('completed_version'),
    expiresAt: instant('expires_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.scope, table.key] }),
    index('idempotency_keys_expires_at_idx').on(table.expiresAt),
  ],
);

/** Webhook subscriptions: ticket events are POSTed, signed with the subscription's secret. */
export const webhookSubscriptions = pgTable('webhook_subscriptions', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** Timeline event types to deliver; `*` for every one. */
  eventTypes: jsonb('event_types').$type<string[]>().notNull(),
  /** Sealed (see field-cipher.ts): the relay opens it to sign each delivery. */
  secret: text('secret').notNull(),
  /** Paused (by hand or automatically): no new deliveries, and pending ones wait. */
  active: boolean('active').notNull().default(true),
  /** Failed attempts since the last success, and since when: the automatic pause counts these. */
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  failingSince: instant('failing_since'),
  /** Set when the relay paused the subscription because its receiver kept failing. */
  disabledAt: instant('disabled_at'),
  disabledReason: text('disabled_reason'),
  createdAt: instant('created_at').notNull().defaultNow(),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

/**
 * Everything sent out: a notification through its provider, a ticket event to a webhook, or a
 * notice to managers that a subscription was paused. Written with the change that caused it (one
 * row per notification, one per event and subscription): an outbox the delivery relay sends from,
 * each row claimed with `FOR UPDATE SKIP LOCKED` and retried at `next_attempt_at`.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    /** The notification key, `wh:<subscription>:<ticket>:<event seq>`, or `paused:<subscription>:<n>`. */
    id: text('id').primaryKey(),
    /** The ticket it is about; none for a notice about a subscription. */
    ticketNumber: text('ticket_number').references(() => tickets.number),
    /** The ticket version whose change created it. */
    version: integer('version').notNull(),
    kind: text('kind').$type<DeliveryKind>().notNull(),
    channel: text('channel').notNull(),
    subscriptionId: text('subscription_id').references(() => webhookSubscriptions.id),
    eventSeq: integer('event_seq'),
    status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** When a relay may take it next: now for a new one, the backoff after a failure, a lease while sending. */
    nextAttemptAt: instant('next_attempt_at').notNull().defaultNow(),
    createdAt: instant('created_at').notNull().defaultNow(),
    deliveredAt: instant('delivered_at'),
  },
  (table) => [
    index('deliveries_ticket_version_idx').on(table.ticketNumber, table.version),
    index('deliveries_subscription_idx').on(table.subscriptionId, table.createdAt),
    // What the relay claims: pending webhook deliveries per subscription, the rest by due time.
    index('deliveries_pending_webhook_idx')
      .on(table.subscriptionId, table.nextAttemptAt)
      .where(sql`${table.status} = 'pending' and ${table.kind} = 'webhook'`),
    index('deliveries_pending_notice_idx')
      .on(table.nextAttemptAt)
      .where(sql`${table.status} = 'pending' and ${table.kind} <> 'webhook'`),
  ],
);

export type DeliveryKind = 'notification' | 'webhook' | 'notice';

/** Every try of a delivery, successful or not. */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => deliveries.id),
    attempt: integer('attempt').notNull(),
    at: instant('at').notNull(),
    ok: boolean('ok').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
  },
  (table) => [primaryKey({ columns: [table.deliveryId, table.attempt] })],
);

/** The development notification provider's outbox: messages as they would have been sent. */
export const outboxMessages = pgTable('outbox_messages', {
  deliveryId: text('delivery_id')
    .primaryKey()
    .references(() => deliveries.id),
  channel: text('channel').notNull(),
  /** Sealed: a phone number or e-mail address for the customer, `role:<role>` for staff. */
  recipient: text('recipient').notNull(),
  language: text('language').notNull(),
  subject: text('subject'),
  body: text('body').notNull(),
  sentAt: instant('sent_at').notNull(),
});

/**
 * Browsers signed in to the codec endpoint. The cookie holds a random session id; only its SHA-256
 * is stored, so a copy of this table opens no session. Every API instance reads the same rows.
 */
export const codecSessions = pgTable(
  'codec_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    actorId: text('actor_id').notNull(),
    actorRole: text('actor_role').$type<Role>().notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
  },
  (table) => [index('codec_sessions_expires_at_idx').on(table.expiresAt)],
);

/**
 * The parts catalogue (seed 003's 配件管理组). Money in fen. `low_stock` is set while the part's
 * available quantity is below its safety stock: the notice goes once per crossing, counted in
 * `low_stock_crossings`, and a rise back to the safety stock re-arms it.
 */
export const parts = pgTable(
  'parts',
  {
    partNumber: text('part_number').primaryKey(),
    name: text('name').notNull(),
    specification: text('specification').notNull().default(''),
    /** Product lines the part fits. */
    productLines: jsonb('product_lines').$type<string[]>().notNull(),
    unitCost: integer('unit_cost').notNull(),
    unitPrice: integer('unit_price').notNull(),
    valuable: boolean('valuable').notNull().default(false),
    limited: boolean('limited').notNull().default(false),
    safetyStock: integer('safety_stock').notNull().default(0),
    lowStock: boolean('low_stock').notNull().default(false),
    lowStockCrossings: integer('low_stock_crossings').notNull().default(0),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    check('parts_money_not_negative', sql`${table.unitCost} >= 0 and ${table.unitPrice} >= 0`),
    check('parts_safety_stock_not_negative', sql`${table.safetyStock} >= 0`),
  ],
);

/** Where stock lies: a warehouse, or an engineer's van (one per engineer). */
export const stockLocations = pgTable(
  'stock_locations',
  {
    id: text('id').primaryKey(),
    kind: text('kind').$type<LocationKind>().notNull(),
    name: text('name').notNull(),
    engineerId: text('engineer_id').references(() => engineers.id),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('stock_locations_engineer_idx').on(table.engineerId),
    check(
      'stock_locations_van_has_engineer',
      sql`(${table.kind} = 'van') = (${table.engineerId} is not null) and ${table.kind} in ('warehouse', 'van')`,
    ),
  ],
);

/**
 * Each part's stock at each location: on hand (the sum of the ledger's applied movements, kept in
 * the same transaction as each movement) and what tickets have reserved of it. PostgreSQL refuses a
 * negative on hand or a reservation of more than is there, whatever the code above it does.
 */
export const stockLevels = pgTable(
  'stock_levels',
  {
    partNumber: text('part_number')
      .notNull()
      .references(() => parts.partNumber),
    locationId: text('location_id')
      .notNull()
      .references(() => stockLocations.id),
    onHand: integer('on_hand').notNull().default(0),
    reserved: integer('reserved').notNull().default(0),
  },
  (table) => [
    primaryKey({ columns: [table.partNumber, table.locationId] }),
    check('stock_levels_on_hand_not_negative', sql`${table.onHand} >= 0`),
    check(
      'stock_levels_reserved_within_on_hand',
      sql`${table.reserved} >= 0 and ${table.reserved} <= ${table.onHand}`,
    ),
  ],
);

/**
 * The stock ledger (库存台账): every movement is a row, never updated but for a pending one's
 * decision. Rows written by one request share an operation id.
 */
export const stockMovements = pgTable(
  'stock_movements',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    operationId: text('operation_id').notNull(),
    kind: text('kind').$type<MovementKind>().notNull(),
    status: text('status').$type<MovementStatus>().notNull(),
    partNumber: text('part_number')
      .notNull()
      .references(() => parts.partNumber),
    locationId: text('location_id')
      .notNull()
      .references(() => stockLocations.id),
    /** Signed: what the location gains (positive) or loses (negative). */
    quantity: integer('quantity').notNull(),
    /** Quantity × the part's unit cost when the movement was recorded, in fen, unsigned. */
    value: bigint('value', { mode: 'number' }).notNull(),
    ticketNumber: text('ticket_number').references(() => tickets.number),
    reason: text('reason'),
    /** A receipt's supplier and purchase order, a transfer's other end. */
    reference: text('reference'),
    actorId: text('actor_id').notNull(),
    at: instant('at').notNull().defaultNow(),
    decidedBy: text('decided_by'),
    decidedAt: instant('decided_at'),
  },
  (table) => [
    index('stock_movements_part_idx').on(table.partNumber, table.at),
    index('stock_movements_location_idx').on(table.locationId, table.at),
    index('stock_movements_ticket_idx').on(table.ticketNumber),
    index('stock_movements_operation_idx').on(table.operationId),
    check('stock_movements_quantity_not_zero', sql`${table.quantity} <> 0`),
  ],
);

/**
 * Idempotency-Key claims of stock requests: a repeat with the same key and body is answered with the
 * operation the first made; another body is refused.
 */
export const stockRequestKeys = pgTable(
  'stock_request_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    operationId: text('operation_id').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.scope, table.key] })],
);

/**
 * Stock held for a ticket (a requisition, 领用申请): taken from a location's available quantity when
 * requested, then issued (what the resolve says was used: a ledger row) or released (the rest, or
 * a cancel). `settlement` is the key of the workflow step that settled it, so a retried step finds
 * it settled and does nothing twice.
 */
export const partReservations = pgTable(
  'part_reservations',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** The parts request it answers: one Idempotency-Key per ticket and request. */
    requestId: text('request_id').notNull(),
    ticketNumber: text('ticket_number')
      .notNull()
      .references(() => tickets.number),
    partNumber: text('part_number')
      .notNull()
      .references(() => parts.partNumber),
    locationId: text('location_id')
      .notNull()
      .references(() => stockLocations.id),
    quantity: integer('quantity').notNull(),
    status: text('status').$type<ReservationStatus>().notNull(),
    issuedQuantity: integer('issued_quantity').notNull().default(0),
    /** The catalogue price when requested, in fen; nothing is charged under warranty. */
    unitPrice: integer('unit_price').notNull(),
    freeUnderWarranty: boolean('free_under_warranty').notNull(),
    /** What became of the part it replaced, recorded at resolve. */
    oldPartDisposition: text('old_part_disposition').$type<OldPartDisposition>(),
    requestedBy: text('requested_by').notNull(),
    requestedAt: instant('requested_at').notNull().defaultNow(),
    /** The manager who approved or rejected a valuable or limited part, and when. */
    decidedBy: text('decided_by'),
    decidedAt: instant('decided_at'),
    settlement: text('settlement'),
    settledAt: instant('settled_at'),
    /** The stock operation (a receipt, a transfer, a count…) whose stock it took for a waiting ticket. */
    operationId: text('operation_id'),
  },
  (table) => [
    index('part_reservations_ticket_idx').on(table.ticketNumber, table.status),
    check('part_reservations_quantity_positive', sql`${table.quantity} > 0`),
    check(
      'part_reservations_issued_within_quantity',
      sql`${table.issuedQuantity} >= 0 and ${table.issuedQuantity} <= ${table.quantity}`,
    ),
  ],
);

/**
 * What a ticket's parts request could not reserve (a stock-out): the parts report counts the
 * tickets it delayed. It stays open (quantity less filled less withdrawn) until stock arriving fills
 * it (`filled`, reserved for the ticket oldest shortfall first) or it is no longer wanted
 * (`withdrawn`: a later request for the same part replaced it, or a changed plan dropped it;
 * `withdrawnBy` the request or workflow step that did).
 */
export const partShortfalls = pgTable(
  'part_shortfalls',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    requestId: text('request_id').notNull(),
    ticketNumber: text('ticket_number')
      .notNull()
      .references(() => tickets.number),
    partNumber: text('part_number')
      .notNull()
      .references(() => parts.partNumber),
    quantity: integer('quantity').notNull(),
    at: instant('at').notNull().defaultNow(),
    /** The request's warranty: what stock arriving reserves for it is free too. */
    freeUnderWarranty: boolean('free_under_warranty').notNull().default(false),
    filled: integer('filled').notNull().default(0),
    withdrawn: integer('withdrawn').notNull().default(0),
    withdrawnBy: text('withdrawn_by'),
  },
  (table) => [
    index('part_shortfalls_at_idx').on(table.at),
    index('part_shortfalls_open_idx')
      .on(table.partNumber, table.at)
      .where(sql`${table.filled} + ${table.withdrawn} < ${table.quantity}`),
    check('part_shortfalls_quantity_positive', sql`${table.quantity} > 0`),
    check(
      'part_shortfalls_settled_within_quantity',
      sql`${table.filled} >= 0 and ${table.withdrawn} >= 0 and ${table.filled} + ${table.withdrawn} <= ${table.quantity}`,
    ),
  ],
);

/**
 * One row per month's report (seed 004: 每月5日前完成上月数据统计), written once by the monthly
 * report workflow however often that month is run (the Schedule, a backfill, the admin endpoint):
 * the summary report of the month as it was produced, and when it was escalated for being late.
 */
export const monthlyReports = pgTable('monthly_reports', {
  /** `YYYY-MM` in the business time zone. */
  month: text('month').primaryKey(),
  periodFrom: text('period_from').notNull(),
  periodTo: text('period_to').notNull(),
  timeZone: text('time_zone').notNull(),
  /** The summary report (`GET /v1/reports/summary` of the month) as produced. */
  report: jsonb('report').$type<SummaryReport>().notNull(),
  producedAt: instant('produced_at').notNull().defaultNow(),
  /** When the director was told the report was not delivered by the 5th; null when it was not late. */
  escalatedAt: instant('escalated_at'),
});
