import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import {
  decideMovement,
  decideReservation,
  findLocation,
  findPart,
  listLocations,
  listMovements,
  listParts,
  listTicketReservations,
  recordStockCount,
  recordStockRequest,
  reorderSuggestions,
  reserveForTicket,
  StockRefusal,
  upsertLocation,
  upsertPart,
  vanOf,
  type MovementLine,
  type PartsRequestAnswer,
  type ServedTicket,
  type StockAnswer,
} from '../../db/parts-store';
import { stockScope } from '../../domain/access';
import {
  LOCATION_ID_PATTERN,
  LOCATION_KINDS,
  MAX_QUANTITY,
  MOVEMENT_KINDS,
  MOVEMENT_STATUSES,
  OLD_PART_DISPOSITIONS,
  PART_NUMBER_PATTERN,
  REORDER_COVER_DAYS,
  REORDER_LOOKBACK_DAYS,
  RESERVATION_STATUSES,
  type PartsEvent,
} from '../../domain/parts';
import { isClockRunning } from '../../domain/clocks';
import type { Actor } from '../../domain/ticket';
import { findTicket } from '../../db/ticket-store';
import { BLANK_MESSAGE, NOT_BLANK } from '../../domain/text-rules';
import { authorize } from '../authorize';
import { sequenceCursor } from '../cursor';
import { instantFilter } from '../instant-filter';
import { Problem } from '../problem';
import { csv, idempotencyHeaders, problems, wholeNumber } from '../schemas';
import type { TicketService } from '../ticket-service';

const label = z.string().max(100).trim().regex(NOT_BLANK, BLANK_MESSAGE);
const note = z.string().max(500).trim().regex(NOT_BLANK, BLANK_MESSAGE);
const partNumber = z
  .string()
  .regex(PART_NUMBER_PATTERN, 'must be 1–64 characters: A-Z, a-z, 0-9, ".", "_", "-"');
const locationId = z.string().regex(LOCATION_ID_PATTERN, 'must be 1–64 characters: a-z, 0-9, ".", "_", "-"');
const fen = z.number().int().min(0).max(1_000_000_000);
const quantity = z.number().int().min(1).max(MAX_QUANTITY);
const instant = z.string().describe('ISO 8601 instant');

const partBody = z
  .object({
    partNumber,
    name: label,
    specification: z.string().max(500).trim().default(''),
    productLines: z.array(label).min(1).max(50).describe('product lines the part fits'),
    unitCost: fen.describe('what the part costs us, in fen (分)'),
    unitPrice: fen.describe('what an out-of-warranty customer pays, in fen (分)'),
    valuable: z
      .boolean()
      .default(false)
      .describe('贵重配件: a ticket gets it only with a manager’s approval'),
    limited: z.boolean().default(false).describe('限量配件: a ticket gets it only with a manager’s approval'),
    safetyStock: z
      .number()
      .int()
      .min(0)
      .max(MAX_QUANTITY)
      .default(0)
      .describe('below this many available, the parts group and the supervisor are told'),
  })
  .strict();

const stockView = z.object({
  locationId: z.string(),
  onHand: z.number().int(),
  reserved: z.number().int().describe('held for tickets'),
  available: z.number().int().describe('on hand less reserved'),
});

const partView = z.object({
  partNumber: z.string(),
  name: z.string(),
  specification: z.string(),
  productLines: z.array(z.string()),
  unitCost: z.number().int().describe('fen'),
  unitPrice: z.number().int().describe('fen'),
  valuable: z.boolean(),
  limited: z.boolean(),
  safetyStock: z.number().int(),
  lowStock: z.boolean().describe('available is below the safety stock'),
  stock: z.array(stockView).describe('per location; an engineer sees its own van only'),
  totals: z.object({ onHand: z.number().int(), reserved: z.number().int(), available: z.number().int() }),
  createdAt: instant,
  updatedAt: instant,
});

const locationBody = z.discriminatedUnion('kind', [
  z.object({ id: locationId, kind: z.literal('warehouse'), name: label }).strict(),
  z
    .object({
      id: locationId,
      kind: z.literal('van'),
      name: label,
      engineerId: z.string().min(1).max(64).describe('the engineer whose van it is'),
    })
    .strict(),
]);

const locationView = z.object({
  id: z.string(),
  kind: z.enum(LOCATION_KINDS),
  name: z.string(),
  engineerId: z.string().nullable(),
  createdAt: instant,
});

const movementView = z.object({
  id: z.number().int(),
  operationId: z.string().describe('the request that wrote it; a transfer’s two rows share one'),
  kind: z.enum(MOVEMENT_KINDS),
  status: z.enum(MOVEMENT_STATUSES).describe('pending: waits for a manager; only applied rows count'),
  partNumber: z.string(),
  locationId: z.string(),
  quantity: z.number().int().describe('what the location gains (positive) or loses (negative)'),
  value: z.number().int().describe('quantity × unit cost, in fen'),
  ticketNumber: z.string().nullable(),
  reason: z.string().nullable(),
  reference: z.string().nullable(),
  actorId: z.string(),
  at: instant,
  decidedBy: z.string().nullable(),
  decidedAt: instant.nullable(),
});

const operationView = z.object({
  operationId: z.string(),
  status: z.enum(['applied', 'pending']),
  movements: z.array(movementView),
  served: z
    .array(
      z.object({
        ticketNumber: z.string(),
        ready: z.boolean().describe('it awaits no more parts: its waiting-for-parts clock stops'),
      }),
    )
    .describe('tickets waiting for the part that the stock now available was reserved for, oldest first'),
});

const receiptBody = z
  .object({
    partNumber,
    locationId,
    accepted: z.number().int().min(0).max(MAX_QUANTITY).describe('passed receiving inspection (验收)'),
    rejected: z
      .number()
      .int()
      .min(0)
      .max(MAX_QUANTITY)
      .default(0)
      .describe('failed inspection: recorded as returned to the supplier'),
    reference: label.describe('supplier and purchase order'),
    inspectionNote: note.optional(),
  })
  .strict()
  // Something came in: stated in the document too, so generated valid bodies never receive nothing.
  .meta({
    anyOf: [
      { properties: { accepted: { minimum: 1 } } },
      { properties: { rejected: { minimum: 1 } }, required: ['rejected'] },
    ],
  });

const transferBody = z
  .object({
    partNumber,
    from: locationId,
    to: locationId.describe('another location than `from` (422 when the same)'),
    quantity,
    reason: note.optional(),
  })
  .strict();

const adjustmentBody = z
  .object({
    partNumber,
    locationId,
    quantity: z
      .number()
      .int()
      .min(-MAX_QUANTITY)
      .max(MAX_QUANTITY)
      .describe('counted less booked: positive a gain (盘盈), negative a loss (盘亏); not 0')
      .meta({ not: { const: 0 } }),
    reason: note,
  })
  .strict();

const scrapBody = z.object({ partNumber, locationId, quantity, reason: note }).strict();

/** At most this many lines in one stock-take request (a location's shelf, or a van). */
const MAX_COUNT_LINES = 200;

const countBody = z
  .object({
    lines: z
      .array(
        z
          .object({
            partNumber,
            locationId,
            counted: z.number().int().min(0).max(MAX_QUANTITY).describe('what is physically there'),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_COUNT_LINES)
      .describe('each part at each location at most once'),
    reason: note.describe('the stock-take, e.g. 2026年12月月度盘点'),
  })
  .strict();

const movementQuery = z
  .object({
    partNumber: partNumber.optional(),
    locationId: locationId.optional(),
    kind: csv(MOVEMENT_KINDS),
    status: csv(MOVEMENT_STATUSES),
    ticket: z.string().min(1).max(40).optional(),
    from: instantFilter().optional(),
    to: instantFilter().optional(),
    limit: wholeNumber(1, 500).default(200),
    cursor: sequenceCursor.query,
  })
  .strict();

const reservationView = z.object({
  id: z.number().int(),
  requestId: z.string().describe('the parts request that made it'),
  ticketNumber: z.string(),
  partNumber: z.string(),
  locationId: z.string(),
  quantity: z.number().int(),
  status: z
    .enum(RESERVATION_STATUSES)
    .describe(
      'a valuable or limited part awaits a manager’s approval; issued at resolve (what was used), released otherwise',
    ),
  issuedQuantity: z.number().int(),
  unitPrice: z.number().int().describe('fen, from the catalogue when requested'),
  freeUnderWarranty: z.boolean(),
  charged: z.number().int().describe('fen: nothing under warranty'),
  oldPartDisposition: z.enum(OLD_PART_DISPOSITIONS).nullable(),
  requestedBy: z.string(),
  requestedAt: instant,
  decidedBy: z
    .string()
    .nullable()
    .describe('the manager who approved or rejected a valuable or limited part'),
  decidedAt: instant.nullable(),
  settledAt: instant.nullable(),
});

const partsRequestBody = z
  .object({
    lines: z
      .array(z.object({ partNumber, quantity: z.number().int().min(1).max(1000) }).strict())
      .min(1)
      .max(50),
  })
  .strict();

const partsRequestView = z.object({
  ticketNumber: z.string(),
  requestId: z.string(),
  reservations: z.array(reservationView),
  shortfalls: z
    .array(
      z.object({
        partNumber: z.string(),
        quantity: z.number().int().describe('not reserved: no stock in the van or the warehouses'),
        proposals: z.array(
          z.discriminatedUnion('kind', [
            z.object({ kind: z.literal('transfer'), from: z.string(), quantity: z.number().int() }),
            z.object({ kind: z.literal('purchase'), quantity: z.number().int() }),
          ]),
        ),
      }),
    )
    .describe('what could not be reserved, and what would cover it'),
});

const ticketParams = z.object({ number: z.string().min(1).max(40) });

const movementParams = z.object({ id: wholeNumber(1, 2_147_483_647) });

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** A store refusal as the problem the API answers; PostgreSQL's stock CHECKs as the same conflict. */
function stockProblem(error: unknown): unknown {
  if (error instanceof StockRefusal) {
    if (error.kind === 'notFound') return new Problem(404, 'Not found', error.message);
    if (error.kind === 'conflict') return new Problem(409, 'Stock conflict', error.message);
    return new Problem(422, 'Unprocessable stock request', error.message);
  }
  const cause = (error as { cause?: { constraint_name?: unknown; code?: unknown } } | null)?.cause;
  if (typeof cause?.constraint_name === 'string' && cause.constraint_name.startsWith('stock_levels_')) {
    return new Problem(409, 'Stock conflict', `the change would break ${cause.constraint_name}`);
  }
  // numeric_value_out_of_range: a location would hold more than an integer counts.
  if (cause?.code === '22003') {
    return new Problem(422, 'Unprocessable stock request', 'the quantity would take the stock out of range');
  }
  return error;
}

async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw stockProblem(error);
  }
}

/**
 * What a parts request tells the ticket's workflow: a shortfall starts the waiting-for-parts clock
 * (one already running keeps its deadline; the shortfall itself is in the ledger's records), and
 * nothing awaited any more (this request's shortfalls, and earlier ones it did not replace) stops a
 * running one; a valuable or limited part starts the approval clock.
 */
function partsEventsOf(answer: PartsRequestAnswer, waitingForParts: boolean): PartsEvent[] {
  const events: PartsEvent[] = [];
  if (answer.shortfalls.length > 0 && !waitingForParts) {
    const shortfalls = answer.shortfalls.map(({ partNumber, quantity }) => ({ partNumber, quantity }));
    events.push({ kind: 'waiting', shortfalls });
  } else if (!answer.waiting && waitingForParts) {
    events.push({ kind: 'ready' });
  }
  const awaiting = answer.reservations.filter((reservation) => reservation.status === 'awaiting_approval');
  if (awaiting.length > 0) {
    const partNumbers = [...new Set(awaiting.map((reservation) => reservation.partNumber))];
    events.push({ kind: 'approval_requested', partNumbers });
  }
  return events;
}

/** The one location an engineer's reads are limited to (its van; none: a location nobody has). */
async function visibleLocation(db: Database, request: FastifyRequest): Promise<string | undefined> {
  const scope = stockScope(request.actor);
  if (scope.kind === 'all') return undefined;
  return (await vanOf(db, scope.engineerId)) ?? '';
}

export interface PartRoutesOptions {
  readonly db: Database;
  readonly tickets: TicketService;
  readonly approvalThresholdFen: number;
}

/**
 * `/v1/parts`, `/v1/stock-locations` and `/v1/stock/*`: the catalogue, where stock lies, and the
 * ledger every change of stock is written to.
 */
export const partRoutes: FastifyPluginAsyncZod<PartRoutesOptions> = async (app, options) => {
  const { db, tickets, approvalThresholdFen } = options;

  /**
   * Tells each ticket stock was reserved for: a valuable or limited part starts its approval clock,
   * and a ticket that awaits nothing more stops waiting for parts. The stock is reserved whatever a
   * workflow answers: a ticket that cannot hear now (resolved meanwhile, or its workflow slow) is
   * logged, and the same request again (same Idempotency-Key) tells it again, under the same ids.
   */
  async function tellServed(served: readonly ServedTicket[], actor: Actor, operationId: string) {
    for (const { ticketNumber, ready, awaitingApproval } of served) {
      try {
        if (awaitingApproval.length > 0) {
          await tickets.recordPartsEvent(
            ticketNumber,
            { kind: 'approval_requested', partNumbers: awaitingApproval },
            actor,
            `parts-served-${operationId}-${ticketNumber}-approval`,
          );
        }
        const ticket = ready ? await findTicket(db, ticketNumber) : undefined;
        if (ticket && isClockRunning(ticket, 'partsWait')) {
          await tickets.recordPartsEvent(
            ticketNumber,
            { kind: 'ready' },
            actor,
            `parts-served-${operationId}-${ticketNumber}-ready`,
          );
        }
      } catch (error) {
        app.log.warn(
          { ticketNumber, operationId, err: error },
          'stock reserved for a waiting ticket, but its workflow was not told',
        );
      }
    }
  }

  /** A stock operation's answer: 201 applied, 202 waiting for a manager; waiting tickets served are told. */
  async function answerStock(request: FastifyRequest, reply: FastifyReply, answer: StockAnswer) {
    await tellServed(answer.served, request.actor, answer.operationId);
    if (answer.replayed) reply.header('idempotent-replayed', 'true');
    const pending = answer.movements.some((movement) => movement.status === 'pending');
    reply.code(pending ? 202 : 201);
    return {
      operationId: answer.operationId,
      status: pending ? 'pending' : 'applied',
      movements: answer.movements,
      served: answer.served.map(({ ticketNumber, ready }) => ({ ticketNumber, ready })),
    } as const;
  }

  /** The caller's Idempotency-Key for a stock write of this kind and body (the route's header schema has checked it). */
  function idempotencyOf(request: FastifyRequest, kind: string, body: unknown) {
    const header = request.headers['idempotency-key'];
    return typeof header === 'string'
      ? { scope: `stock:${request.actor.id}`, key: header, requestHash: sha256({ kind, body }) }
      : undefined;
  }

  /** Records a stock request under the caller's Idempotency-Key: 201 applied, 202 waiting for a manager. */
  async function record(
    request: FastifyRequest,
    reply: FastifyReply,
    kind: string,
    body: unknown,
    stock: { partNumber: string; lines: MovementLine[]; reason?: string },
  ) {
    const answer = await refusing(() =>
      recordStockRequest(db, {
        ...stock,
        actorId: request.actor.id,
        approvalThresholdFen,
        idempotency: idempotencyOf(request, kind, body),
      }),
    );
    return answerStock(request, reply, answer);
  }

  const movementResponses = {
    201: operationView.describe('applied: on hand has changed'),
    202: operationView.describe('worth more than the approval threshold: waits for a manager'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
  };

  app.get(
    '/parts',
    {
      onRequest: authorize('part.read'),
      schema: {
        tags: ['parts'],
        summary: 'The parts catalogue with stock per location',
        querystring: z
          .object({
            productLine: label.optional(),
            lowStock: z
              .enum(['true', 'false'])
              .transform((value) => value === 'true')
              .optional(),
          })
          .strict(),
        response: { 200: z.object({ items: z.array(partView) }), ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => ({ items: await listParts(db, request.query, await visibleLocation(db, request)) }),
  );

  app.get(
    '/parts/reorder',
    {
      onRequest: authorize('part.manage'),
      schema: {
        tags: ['parts'],
        summary: `What to buy: a month of the last ${REORDER_LOOKBACK_DAYS} days’ use on top of the safety stock, less what is available`,
        response: {
          200: z.object({
            lookbackDays: z.number().int(),
            coverDays: z.number().int(),
            items: z.array(
              z.object({
                partNumber: z.string(),
                name: z.string(),
                available: z.number().int(),
                safetyStock: z.number().int(),
                issuedInLookback: z.number().int().describe('issued to tickets in the lookback days'),
                suggestedQuantity: z.number().int(),
                unitCost: z.number().int().describe('fen'),
                estimatedCost: z.number().int().describe('suggested quantity × unit cost, in fen'),
              }),
            ),
          }),
          ...problems(401, 403, 429, 503),
        },
      },
    },
    async () => {
      const since = new Date(Date.now() - REORDER_LOOKBACK_DAYS * 86_400_000).toISOString();
      return {
        lookbackDays: REORDER_LOOKBACK_DAYS,
        coverDays: REORDER_COVER_DAYS,
        items: await reorderSuggestions(db, since),
      };
    },
  );

  app.get(
    '/parts/:partNumber',
    {
      onRequest: authorize('part.read'),
      schema: {
        tags: ['parts'],
        summary: 'One part with its stock per location',
        params: z.object({ partNumber: z.string().min(1).max(64) }),
        response: { 200: partView, ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const part = await findPart(db, request.params.partNumber, await visibleLocation(db, request));
      if (!part) throw new Problem(404, 'Part not found', `no part ${request.params.partNumber}`);
      return part;
    },
  );

  app.post(
    '/parts',
    {
      onRequest: authorize('part.manage'),
      schema: {
        tags: ['parts'],
        summary: 'Add a part to the catalogue (201) or replace the entry with the same number (200)',
        body: partBody,
        response: { 200: partView, 201: partView, ...problems(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const created = await upsertPart(db, request.body);
      const part = await findPart(db, request.body.partNumber);
      if (!part) throw new Error(`part ${request.body.partNumber} vanished after it was written`);
      reply.code(created ? 201 : 200).header('location', `/v1/parts/${part.partNumber}`);
      return part;
    },
  );

  app.get(
    '/stock-locations',
    {
      onRequest: authorize('part.read'),
      schema: {
        tags: ['parts'],
        summary: 'Warehouses and engineers’ vans',
        querystring: z.object({ kind: z.enum(LOCATION_KINDS).optional() }).strict(),
        response: { 200: z.object({ items: z.array(locationView) }), ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => ({ items: await listLocations(db, request.query) }),
  );

  app.post(
    '/stock-locations',
    {
      onRequest: authorize('part.manage'),
      schema: {
        tags: ['parts'],
        summary: 'Add a warehouse or an engineer’s van (201), or rename one (200)',
        body: locationBody,
        response: {
          200: locationView,
          201: locationView,
          ...problems(400, 401, 403, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const created = await refusing(() => upsertLocation(db, request.body));
      const location = await findLocation(db, request.body.id);
      if (!location) throw new Error(`stock location ${request.body.id} vanished after it was written`);
      reply.code(created ? 201 : 200).header('location', `/v1/stock-locations/${location.id}`);
      return location;
    },
  );

  app.get(
    '/stock/movements',
    {
      onRequest: authorize('stock.read'),
      schema: {
        tags: ['parts'],
        summary: 'The stock ledger, oldest first, with filters and cursor pagination',
        querystring: movementQuery,
        response: {
          200: z.object({ items: z.array(movementView), nextCursor: z.string().nullable() }),
          ...problems(400, 401, 403, 429, 503),
        },
      },
    },
    async (request) => {
      const { limit, cursor, ticket, ...filters } = request.query;
      const van = await visibleLocation(db, request);
      if (van !== undefined && filters.locationId !== undefined && filters.locationId !== van) {
        throw new Problem(403, 'Forbidden', 'an engineer sees only its own van’s stock');
      }
      const rows = await listMovements(
        db,
        { ...filters, ticketNumber: ticket, locationId: van ?? filters.locationId },
        { afterId: cursor === undefined ? undefined : sequenceCursor.decode(cursor), limit: limit + 1 },
      );
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? sequenceCursor.encode(last.id) : null };
    },
  );

  app.post(
    '/stock/receipts',
    {
      onRequest: authorize('stock.move'),
      schema: {
        tags: ['parts'],
        summary: 'Receive a purchase after inspection: accepted stay, rejected go back to the supplier',
        headers: idempotencyHeaders,
        body: receiptBody,
        response: movementResponses,
      },
    },
    async (request, reply) => {
      const { partNumber, locationId, accepted, rejected, reference, inspectionNote } = request.body;
      if (accepted + rejected === 0) {
        throw new Problem(422, 'Nothing received', 'accepted and rejected are both 0');
      }
      const lines: MovementLine[] = [
        { kind: 'receipt', locationId, quantity: accepted + rejected, reference },
      ];
      if (rejected > 0) lines.push({ kind: 'supplier_return', locationId, quantity: -rejected, reference });
      return record(request, reply, 'receipt', request.body, { partNumber, lines, reason: inspectionNote });
    },
  );

  app.post(
    '/stock/transfers',
    {
      onRequest: authorize('stock.move'),
      schema: {
        tags: ['parts'],
        summary: 'Move stock between locations (调货), e.g. from a warehouse to an engineer’s van',
        headers: idempotencyHeaders,
        body: transferBody,
        response: movementResponses,
      },
    },
    async (request, reply) => {
      const { partNumber, from, to, quantity: moved, reason } = request.body;
      if (from === to)
        throw new Problem(422, 'Same location', `a transfer needs two locations; both are ${from}`);
      const lines: MovementLine[] = [
        { kind: 'transfer_out', locationId: from, quantity: -moved, reference: to },
        { kind: 'transfer_in', locationId: to, quantity: moved, reference: from },
      ];
      return record(request, reply, 'transfer', request.body, { partNumber, lines, reason });
    },
  );

  app.post(
    '/stock/adjustments',
    {
      onRequest: authorize('stock.move'),
      schema: {
        tags: ['parts'],
        summary: 'Correct the books after a stock-take (盘点); above the threshold a manager approves',
        headers: idempotencyHeaders,
        body: adjustmentBody,
        response: movementResponses,
      },
    },
    async (request, reply) => {
      const { partNumber, locationId: at, quantity: delta, reason } = request.body;
      if (delta === 0) throw new Problem(422, 'Nothing to adjust', 'quantity 0 changes nothing');
      const lines: MovementLine[] = [{ kind: 'adjustment', locationId: at, quantity: delta }];
      return record(request, reply, 'adjustment', request.body, { partNumber, lines, reason });
    },
  );

  app.post(
    '/stock/counts',
    {
      onRequest: authorize('stock.move'),
      schema: {
        tags: ['parts'],
        summary:
          'A stock-take (盘点): counted quantities become adjustments of the difference from on hand (盘盈/盘亏); above the threshold a manager approves',
        description:
          'Each line is compared with what is on hand when the request is recorded; a difference becomes an adjustment movement with the reason (none when they agree). A count below what is reserved for tickets refuses the whole request (409): release those reservations first.',
        headers: idempotencyHeaders,
        body: countBody,
        response: movementResponses,
      },
    },
    async (request, reply) => {
      const seen = new Map<string, number>();
      for (const [index, line] of request.body.lines.entries()) {
        const where = `${line.partNumber}@${line.locationId}`;
        const first = seen.get(where);
        if (first !== undefined) {
          throw new Problem(
            422,
            'Counted twice',
            `lines ${first} and ${index} both count part ${line.partNumber} at ${line.locationId}`,
          );
        }
        seen.set(where, index);
      }
      const answer = await refusing(() =>
        recordStockCount(db, {
          ...request.body,
          actorId: request.actor.id,
          approvalThresholdFen,
          idempotency: idempotencyOf(request, 'count', request.body),
        }),
      );
      return answerStock(request, reply, answer);
    },
  );

  app.post(
    '/stock/scraps',
    {
      onRequest: authorize('stock.move'),
      schema: {
        tags: ['parts'],
        summary: 'Scrap damaged or obsolete stock (报废); above the threshold a manager approves',
        headers: idempotencyHeaders,
        body: scrapBody,
        response: movementResponses,
      },
    },
    async (request, reply) => {
      const { partNumber, locationId: at, quantity: scrapped, reason } = request.body;
      const lines: MovementLine[] = [{ kind: 'scrap', locationId: at, quantity: -scrapped }];
      return record(request, reply, 'scrap', request.body, { partNumber, lines, reason });
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/stock/movements/:id/${decision}`,
      {
        onRequest: authorize('stock.approve'),
        schema: {
          tags: ['parts'],
          summary:
            decision === 'approve'
              ? 'Approve a pending scrap or adjustment: it applies now'
              : 'Reject a pending scrap or adjustment: it never counts',
          params: movementParams,
          body: z.object({ reason: note.optional() }).strict(),
          response: { 200: movementView, ...problems(400, 401, 403, 404, 409, 413, 415, 429, 503) },
        },
        preValidation: async (request) => {
          // JSON `null` is a body, and not an object: it is refused like any other.
          if (request.body === undefined) request.body = {};
        },
      },
      async (request) => {
        const { movement, served } = await refusing(() =>
          decideMovement(db, {
            id: request.params.id,
            approve: decision === 'approve',
            actorId: request.actor.id,
            reason: request.body.reason,
          }),
        );
        await tellServed(served, request.actor, `approval-${movement.id}`);
        return movement;
      },
    );
  }

  app.post(
    '/tickets/:number/parts-request',
    {
      onRequest: authorize('parts.request'),
      schema: {
        tags: ['parts'],
        summary:
          'Reserve parts for a ticket (领用申请), nearest first: the assignee’s van, then the warehouses',
        params: ticketParams,
        headers: idempotencyHeaders,
        body: partsRequestBody,
        response: {
          201: partsRequestView,
          ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.requireTicket(request.params.number, request.actor);
      const key = request.headers['idempotency-key'];
      const answer = await refusing(() =>
        reserveForTicket(db, {
          ticketNumber: ticket.number,
          lines: request.body.lines,
          assignee: ticket.assignee,
          freeUnderWarranty: ticket.warranty.status === 'in_warranty',
          actorId: request.actor.id,
          idempotency: key ? { key, requestHash: sha256(request.body) } : undefined,
        }),
      );
      for (const event of partsEventsOf(answer, isClockRunning(ticket, 'partsWait'))) {
        const updateId = `parts-${answer.requestId}-${event.kind}`;
        await tickets.recordPartsEvent(ticket.number, event, request.actor, updateId);
      }
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      reply.code(201);
      return {
        ticketNumber: ticket.number,
        requestId: answer.requestId,
        reservations: answer.reservations,
        shortfalls: answer.shortfalls,
      };
    },
  );

  app.get(
    '/tickets/:number/parts',
    {
      onRequest: authorize('parts.request'),
      schema: {
        tags: ['parts'],
        summary: 'The parts reserved, issued and released for a ticket',
        params: ticketParams,
        response: {
          200: z.object({ ticketNumber: z.string(), items: z.array(reservationView) }),
          ...problems(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      const ticket = await tickets.requireTicket(request.params.number, request.actor);
      return { ticketNumber: ticket.number, items: await listTicketReservations(db, ticket.number) };
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/tickets/:number/parts/:id/${decision}`,
      {
        onRequest: authorize('stock.approve'),
        schema: {
          tags: ['parts'],
          summary:
            decision === 'approve'
              ? 'Approve a valuable or limited part for a ticket: it may be issued at resolve'
              : 'Refuse a valuable or limited part for a ticket: its stock is available again',
          params: ticketParams.extend({ id: wholeNumber(1, 2_147_483_647) }),
          response: { 200: reservationView, ...problems(400, 401, 403, 404, 409, 429, 503) },
        },
      },
      async (request) => {
        const ticket = await tickets.requireTicket(request.params.number, request.actor);
        const decided = await refusing(() =>
          decideReservation(db, {
            ticketNumber: ticket.number,
            id: request.params.id,
            approve: decision === 'approve',
            actorId: request.actor.id,
          }),
        );
        const pending = (await listTicketReservations(db, ticket.number)).filter(
          (reservation) => reservation.status === 'awaiting_approval',
        ).length;
        await tickets.recordPartsEvent(
          ticket.number,
          { kind: 'approval_decided', pending },
          request.actor,
          `parts-decision-${decided.id}`,
        );
        return decided;
      },
    );
  }
};
