import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import {
  allocate,
  LOW_STOCK_NOTICE,
  LOW_STOCK_RECIPIENTS,
  lowStockTransition,
  movementValue,
  nearestFirst,
  needsApproval,
  needsManagerApproval,
  PARTS_REQUEST_STATUSES,
  proposeForShortfall,
  reorderQuantity,
  planRelease,
  settleUse,
  shortageOf,
  type PartQuantities,
  type OldPartDisposition,
  type ReservationStatus,
  type ShortfallProposal,
  type LocationKind,
  type MovementKind,
  type MovementStatus,
} from '../domain/parts';
import type { Database, Transaction } from './client';
import { runReport, type ReportQuery } from './report-run';
import { DELIVERY_CHANNEL } from './delivery-store';
import {
  deliveries,
  engineers,
  notifications,
  partReservations,
  parts,
  partShortfalls,
  stockLevels,
  stockLocations,
  stockMovements,
  stockRequestKeys,
  tickets,
} from './schema';

/**
 * The parts catalogue, stock locations and the stock ledger. Every write that changes a part's
 * stock first locks the part's catalogue row, so one part's movements and reservations happen one
 * at a time (two requests for its last unit cannot both get it); PostgreSQL's CHECKs on
 * `stock_levels` stand behind that.
 */
type Executor = Database | Transaction;

/** Why a stock request cannot be done: the API answers it as a 404, 409 or 422. */
export class StockRefusal extends Error {
  constructor(
    readonly kind: 'notFound' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'StockRefusal';
  }
}

const iso = (value: string) => new Date(value).toISOString();

export interface PartInput {
  readonly partNumber: string;
  readonly name: string;
  readonly specification?: string;
  readonly productLines: readonly string[];
  readonly unitCost: number;
  readonly unitPrice: number;
  readonly valuable?: boolean;
  readonly limited?: boolean;
  readonly safetyStock?: number;
}

export interface LocationStockView {
  readonly locationId: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly available: number;
}

export interface PartRecord {
  readonly partNumber: string;
  readonly name: string;
  readonly specification: string;
  readonly productLines: string[];
  readonly unitCost: number;
  readonly unitPrice: number;
  readonly valuable: boolean;
  readonly limited: boolean;
  readonly safetyStock: number;
  readonly lowStock: boolean;
  readonly stock: LocationStockView[];
  readonly totals: { onHand: number; reserved: number; available: number };
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * After a change of a part's stock or safety stock, with its row locked: when its available quantity
 * (all locations) has just fallen below the safety stock, one notice to the parts group and one to
 * the supervisor, queued in the deliveries outbox with the change; back at the safety stock, the
 * alert re-arms.
 */
async function watchSafetyStock(tx: Transaction, partNumber: string): Promise<void> {
  const [part] = await tx.execute<{
    name: string;
    safety_stock: number;
    low_stock: boolean;
    low_stock_crossings: number;
    available: number;
  }>(sql`
    select p.name, p.safety_stock, p.low_stock, p.low_stock_crossings,
           coalesce((select sum(l.on_hand - l.reserved) from stock_levels l
                     where l.part_number = p.part_number), 0)::int as available
    from parts p where p.part_number = ${partNumber}`);
  if (!part) return;
  const transition = lowStockTransition(part.low_stock, part.available, part.safety_stock);
  if (transition === 'rearm') {
    await tx.update(parts).set({ lowStock: false }).where(eq(parts.partNumber, partNumber));
  }
  if (transition !== 'alert') return;
  const crossing = part.low_stock_crossings + 1;
  await tx
    .update(parts)
    .set({ lowStock: true, lowStockCrossings: crossing })
    .where(eq(parts.partNumber, partNumber));
  const data = { partNumber, name: part.name, available: part.available, safetyStock: part.safety_stock };
  const keys = LOW_STOCK_RECIPIENTS.map((role) => ({
    role,
    key: `low-stock:${partNumber}:${crossing}:${role}`,
  }));
  await tx.insert(notifications).values(
    keys.map(({ role, key }) => ({
      key,
      ticketNumber: null,
      kind: LOW_STOCK_NOTICE,
      recipientRole: role,
      channel: 'internal',
      at: new Date().toISOString(),
      data,
    })),
  );
  await tx.insert(deliveries).values(
    keys.map(({ key }) => ({
      id: key,
      ticketNumber: null,
      version: 0,
      kind: 'notification' as const,
      channel: 'internal',
    })),
  );
  await tx.execute(sql`select pg_notify(${DELIVERY_CHANNEL}, '')`);
}

/**
 * Creates or replaces a part's catalogue entry; returns whether it was new. A new part has no stock:
 * it starts below a safety stock it has, without a notice (nothing fell); a changed safety stock
 * that the available quantity is now below is a crossing, and notifies.
 */
export async function upsertPart(db: Database, input: PartInput): Promise<boolean> {
  const values = {
    partNumber: input.partNumber,
    name: input.name,
    specification: input.specification ?? '',
    productLines: [...input.productLines],
    unitCost: input.unitCost,
    unitPrice: input.unitPrice,
    valuable: input.valuable ?? false,
    limited: input.limited ?? false,
    safetyStock: input.safetyStock ?? 0,
  };
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(parts)
      .values(values)
      .onConflictDoUpdate({ target: parts.partNumber, set: { ...values, updatedAt: sql`now()` } })
      .returning({ created: sql<boolean>`(xmax = 0)` });
    const created = row?.created ?? false;
    if (created) {
      await tx
        .update(parts)
        .set({ lowStock: values.safetyStock > 0 })
        .where(eq(parts.partNumber, input.partNumber));
    } else {
      await watchSafetyStock(tx, input.partNumber);
    }
    return created;
  });
}

async function stockOf(
  db: Executor,
  partNumbers: readonly string[],
  onlyLocation?: string,
): Promise<Map<string, LocationStockView[]>> {
  const byPart = new Map<string, LocationStockView[]>();
  if (partNumbers.length === 0) return byPart;
  const rows = await db
    .select()
    .from(stockLevels)
    .where(
      and(
        sql`${stockLevels.partNumber} in ${partNumbers}`,
        onlyLocation === undefined ? undefined : eq(stockLevels.locationId, onlyLocation),
      ),
    )
    .orderBy(asc(stockLevels.partNumber), asc(stockLevels.locationId));
  for (const row of rows) {
    const list = byPart.get(row.partNumber) ?? [];
    list.push({
      locationId: row.locationId,
      onHand: row.onHand,
      reserved: row.reserved,
      available: row.onHand - row.reserved,
    });
    byPart.set(row.partNumber, list);
  }
  return byPart;
}

export interface PartFilters {
  readonly partNumber?: string;
  readonly productLine?: string;
  readonly lowStock?: boolean;
}

const total = (levels: readonly LocationStockView[], pick: (level: LocationStockView) => number) =>
  levels.reduce((sum, level) => sum + pick(level), 0);

/**
 * Parts with their stock per location. `onlyLocation` limits the stock shown (and its totals) to
 * one location: an engineer sees its own van's.
 */
export async function listParts(
  db: Database,
  filters: PartFilters = {},
  onlyLocation?: string,
): Promise<PartRecord[]> {
  const conditions: SQL[] = [];
  if (filters.partNumber !== undefined) conditions.push(eq(parts.partNumber, filters.partNumber));
  if (filters.productLine) {
    conditions.push(sql`${parts.productLines} @> ${JSON.stringify([filters.productLine])}::jsonb`);
  }
  if (filters.lowStock !== undefined) conditions.push(eq(parts.lowStock, filters.lowStock));
  const rows = await db
    .select()
    .from(parts)
    .where(and(...conditions))
    .orderBy(asc(parts.partNumber));
  const stock = await stockOf(
    db,
    rows.map((row) => row.partNumber),
    onlyLocation,
  );
  return rows.map(({ lowStockCrossings: _crossings, ...row }) => {
    const levels = stock.get(row.partNumber) ?? [];
    return {
      ...row,
      stock: levels,
      totals: {
        onHand: total(levels, (level) => level.onHand),
        reserved: total(levels, (level) => level.reserved),
        available: total(levels, (level) => level.available),
      },
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    };
  });
}

export async function findPart(
  db: Database,
  partNumber: string,
  onlyLocation?: string,
): Promise<PartRecord | undefined> {
  const [part] = await listParts(db, { partNumber }, onlyLocation);
  return part;
}

export interface LocationInput {
  readonly id: string;
  readonly kind: LocationKind;
  readonly name: string;
  readonly engineerId?: string;
}

export interface LocationRecord {
  readonly id: string;
  readonly kind: LocationKind;
  readonly name: string;
  readonly engineerId: string | null;
  readonly createdAt: string;
}

/**
 * Creates a location, or renames one; its kind and engineer are fixed once made (stock lies there).
 * Returns whether it was new.
 */
export async function upsertLocation(db: Database, input: LocationInput): Promise<boolean> {
  const engineerId = input.kind === 'van' ? (input.engineerId ?? null) : null;
  return db.transaction(async (tx) => {
    if (engineerId !== null) {
      const [engineer] = await tx
        .select({ id: engineers.id })
        .from(engineers)
        .where(eq(engineers.id, engineerId));
      if (!engineer) throw new StockRefusal('invalid', `no engineer ${engineerId}`);
      const [van] = await tx
        .select({ id: stockLocations.id })
        .from(stockLocations)
        .where(eq(stockLocations.engineerId, engineerId));
      if (van && van.id !== input.id) {
        throw new StockRefusal('conflict', `engineer ${engineerId} already has van ${van.id}`);
      }
    }
    const [existing] = await tx
      .select()
      .from(stockLocations)
      .where(eq(stockLocations.id, input.id))
      .for('update');
    if (existing && (existing.kind !== input.kind || existing.engineerId !== engineerId)) {
      throw new StockRefusal(
        'conflict',
        `location ${input.id} is a ${existing.kind}${existing.engineerId ? ` of engineer ${existing.engineerId}` : ''}; only its name may change`,
      );
    }
    if (existing) {
      await tx.update(stockLocations).set({ name: input.name }).where(eq(stockLocations.id, input.id));
      return false;
    }
    await tx.insert(stockLocations).values({ id: input.id, kind: input.kind, name: input.name, engineerId });
    return true;
  });
}

export async function listLocations(
  db: Database,
  filters: { kind?: LocationKind; engineerId?: string } = {},
): Promise<LocationRecord[]> {
  const rows = await db
    .select()
    .from(stockLocations)
    .where(
      and(
        filters.kind === undefined ? undefined : eq(stockLocations.kind, filters.kind),
        filters.engineerId === undefined ? undefined : eq(stockLocations.engineerId, filters.engineerId),
      ),
    )
    .orderBy(asc(stockLocations.id));
  return rows.map((row) => ({ ...row, createdAt: iso(row.createdAt) }));
}

export async function findLocation(db: Database, id: string): Promise<LocationRecord | undefined> {
  const [row] = await db.select().from(stockLocations).where(eq(stockLocations.id, id));
  return row && { ...row, createdAt: iso(row.createdAt) };
}

/** The van an engineer carries stock in, if it has one. */
export async function vanOf(db: Database, engineerId: string): Promise<string | undefined> {
  const [van] = await listLocations(db, { kind: 'van', engineerId });
  return van?.id;
}

export interface MovementRecord {
  readonly id: number;
  readonly operationId: string;
  readonly kind: MovementKind;
  readonly status: MovementStatus;
  readonly partNumber: string;
  readonly locationId: string;
  readonly quantity: number;
  readonly value: number;
  readonly ticketNumber: string | null;
  readonly reason: string | null;
  readonly reference: string | null;
  readonly actorId: string;
  readonly at: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
}

type MovementRow = typeof stockMovements.$inferSelect;

const presentMovement = (row: MovementRow): MovementRecord => ({
  ...row,
  at: iso(row.at),
  decidedAt: row.decidedAt === null ? null : iso(row.decidedAt),
});

/** One line of a stock request: what one location gains or loses. */
export interface MovementLine {
  readonly kind: MovementKind;
  readonly locationId: string;
  readonly quantity: number;
  readonly reference?: string;
  readonly ticketNumber?: string;
}

export interface StockRequest {
  readonly partNumber: string;
  readonly lines: readonly MovementLine[];
  readonly reason?: string;
  readonly actorId: string;
  /** Scrap and adjustments worth more than this wait for a manager (PARTS_APPROVAL_THRESHOLD). */
  readonly approvalThresholdFen: number;
  /** The Idempotency-Key claim: a repeat with the same hash gets the first answer. */
  readonly idempotency?: { readonly scope: string; readonly key: string; readonly requestHash: string };
}

/** A waiting ticket stock arriving reserved parts for. */
export interface ServedTicket {
  readonly ticketNumber: string;
  /** It awaits nothing more: its waiting-for-parts clock stops. */
  readonly ready: boolean;
  /** Valuable or limited parts it now holds awaiting a manager's approval. */
  readonly awaitingApproval: string[];
}

export interface StockAnswer {
  readonly operationId: string;
  readonly movements: MovementRecord[];
  /** Waiting tickets the operation's stock was reserved for, oldest shortfall first. */
  readonly served: ServedTicket[];
  readonly replayed: boolean;
}

/**
 * Stock that has just become available (a receipt, a transfer, a count, an approved adjustment)
 * goes to the tickets waiting for the part, in the order their shortfalls were recorded, each from
 * its nearest locations (its engineer's van, then the warehouses: domain/parts.ts `nearestFirst`),
 * as a request would have taken it. Runs in the operation's transaction with the part's row locked,
 * so concurrent arrivals serve each shortfall once; tickets past resolve are not served.
 */
async function serveWaiting(
  tx: Transaction,
  partNumber: string,
  operationId: string,
  actorId: string,
): Promise<void> {
  const part = await lockPart(tx, partNumber);
  const waiting = await tx.execute<{
    id: number;
    request_id: string;
    ticket_number: string;
    open: number;
    free_under_warranty: boolean;
    assignee: string | null;
  }>(sql`
    select s.id, s.request_id, s.ticket_number, s.quantity - s.filled - s.withdrawn as open,
           s.free_under_warranty, t.assignee
    from part_shortfalls s join tickets t on t.number = s.ticket_number
    where s.part_number = ${partNumber} and s.filled + s.withdrawn < s.quantity
      and t.status in ${PARTS_REQUEST_STATUSES}
    order by s.at, s.id
    for update of s for share of t`);
  if (waiting.length === 0) return;
  const locations = await tx.select().from(stockLocations);
  for (const shortfall of waiting) {
    const levels = await tx.select().from(stockLevels).where(eq(stockLevels.partNumber, partNumber));
    const levelAt = (locationId: string) =>
      levels.find((level) => level.locationId === locationId) ?? { locationId, onHand: 0, reserved: 0 };
    const { allocations } = allocate(
      shortfall.open,
      nearestFirst(locations, shortfall.assignee).map((location) => levelAt(location.id)),
    );
    let filled = 0;
    for (const { locationId, quantity } of allocations) {
      await tx
        .update(stockLevels)
        .set({ reserved: sql`${stockLevels.reserved} + ${quantity}` })
        .where(and(eq(stockLevels.partNumber, partNumber), eq(stockLevels.locationId, locationId)));
      await tx.insert(partReservations).values({
        requestId: shortfall.request_id,
        ticketNumber: shortfall.ticket_number,
        partNumber,
        locationId,
        quantity,
        status: needsManagerApproval(part) ? 'awaiting_approval' : 'reserved',
        unitPrice: part.unitPrice,
        freeUnderWarranty: shortfall.free_under_warranty,
        requestedBy: actorId,
        operationId,
      });
      filled += quantity;
    }
    if (filled > 0) {
      await tx
        .update(partShortfalls)
        .set({ filled: sql`${partShortfalls.filled} + ${filled}` })
        .where(eq(partShortfalls.id, shortfall.id));
    }
  }
}

/** The tickets an operation's stock was reserved for, and whether each awaits anything more now. */
async function servedBy(tx: Executor, operationId: string): Promise<ServedTicket[]> {
  const rows = await tx
    .select()
    .from(partReservations)
    .where(eq(partReservations.operationId, operationId))
    .orderBy(asc(partReservations.id));
  const served: ServedTicket[] = [];
  for (const ticketNumber of new Set(rows.map((row) => row.ticketNumber))) {
    const mine = rows.filter((row) => row.ticketNumber === ticketNumber);
    const [open] = await tx
      .select({ id: partShortfalls.id })
      .from(partShortfalls)
      .where(
        and(
          eq(partShortfalls.ticketNumber, ticketNumber),
          sql`${partShortfalls.filled} + ${partShortfalls.withdrawn} < ${partShortfalls.quantity}`,
        ),
      )
      .limit(1);
    const awaiting = mine.filter((row) => row.status === 'awaiting_approval').map((row) => row.partNumber);
    served.push({ ticketNumber, ready: !open, awaitingApproval: [...new Set(awaiting)] });
  }
  return served;
}

/** Locks the part's row: its stock changes one request at a time from here to the commit. */
async function lockPart(tx: Transaction, partNumber: string) {
  const [part] = await tx.select().from(parts).where(eq(parts.partNumber, partNumber)).for('update');
  if (!part) throw new StockRefusal('notFound', `no part ${partNumber}`);
  return part;
}

async function levelOf(tx: Transaction, partNumber: string, locationId: string) {
  const [level] = await tx
    .select()
    .from(stockLevels)
    .where(and(eq(stockLevels.partNumber, partNumber), eq(stockLevels.locationId, locationId)));
  return level;
}

/** Adds a movement's quantity to its location's on hand, after checking a loss leaves the reservations covered. */
async function applyToLevel(tx: Transaction, partNumber: string, locationId: string, quantity: number) {
  if (quantity < 0) {
    const shortage = shortageOf(await levelOf(tx, partNumber, locationId), -quantity);
    if (shortage) throw new StockRefusal('conflict', `part ${partNumber}: ${shortage}`);
    // An insert's row is checked before its conflict is: a loss is an update of the level it checked.
    await tx
      .update(stockLevels)
      .set({ onHand: sql`${stockLevels.onHand} + ${quantity}` })
      .where(and(eq(stockLevels.partNumber, partNumber), eq(stockLevels.locationId, locationId)));
    return;
  }
  await tx
    .insert(stockLevels)
    .values({ partNumber, locationId, onHand: quantity })
    .onConflictDoUpdate({
      target: [stockLevels.partNumber, stockLevels.locationId],
      set: { onHand: sql`${stockLevels.onHand} + ${quantity}` },
    });
}

async function operationMovements(db: Executor, operationId: string): Promise<MovementRecord[]> {
  const rows = await db
    .select()
    .from(stockMovements)
    .where(eq(stockMovements.operationId, operationId))
    .orderBy(asc(stockMovements.id));
  return rows.map(presentMovement);
}

/**
 * Claims an Idempotency-Key for `operationId` in the caller's transaction (a concurrent repeat waits
 * for it). Undefined when this request took it; the earlier operation's id when a repeat of the same
 * request did; a 422 refusal when the key was used with another request.
 */
async function claimKey(
  tx: Transaction,
  { scope, key, requestHash }: { scope: string; key: string; requestHash: string },
  operationId: string,
): Promise<string | undefined> {
  const [claimed] = await tx
    .insert(stockRequestKeys)
    .values({ scope, key, requestHash, operationId })
    .onConflictDoNothing()
    .returning();
  if (claimed) return undefined;
  const [earlier] = await tx
    .select()
    .from(stockRequestKeys)
    .where(and(eq(stockRequestKeys.scope, scope), eq(stockRequestKeys.key, key)));
  if (!earlier || earlier.requestHash !== requestHash) {
    throw new StockRefusal('invalid', `Idempotency-Key "${key}" was first used with a different request`);
  }
  return earlier.operationId;
}

/** What an earlier operation under the same Idempotency-Key wrote, answered again. */
async function stockAnswerOf(tx: Transaction, operationId: string): Promise<StockAnswer> {
  const movements = await operationMovements(tx, operationId);
  return { operationId, movements, served: await servedBy(tx, operationId), replayed: true };
}

/** Refuses (404) a request naming a stock location that does not exist. */
async function requireLocations(tx: Transaction, locationIds: readonly string[]): Promise<void> {
  const known = await tx
    .select({ id: stockLocations.id })
    .from(stockLocations)
    .where(sql`${stockLocations.id} in ${locationIds}`);
  const missing = locationIds.filter((id) => !known.some((location) => location.id === id));
  if (missing.length > 0) throw new StockRefusal('notFound', `no stock location ${missing.join(', ')}`);
}

/**
 * Records a stock request's movements in one transaction: each line applied to its location's on
 * hand (a loss only from what is available), or left pending a manager's approval when it is a
 * scrap or an adjustment worth more than the threshold. With an Idempotency-Key the claim is taken
 * in the same transaction: a concurrent repeat waits for it and answers what it wrote.
 */
export async function recordStockRequest(db: Database, request: StockRequest): Promise<StockAnswer> {
  return db.transaction(async (tx) => {
    const operationId = randomUUID();
    const earlier = request.idempotency && (await claimKey(tx, request.idempotency, operationId));
    if (earlier) return stockAnswerOf(tx, earlier);
    const part = await lockPart(tx, request.partNumber);
    const locationIds = [...new Set(request.lines.map((line) => line.locationId))];
    await requireLocations(tx, locationIds);
    for (const line of request.lines) {
      const value = movementValue(line.quantity, part.unitCost);
      const status: MovementStatus = needsApproval(line.kind, value, request.approvalThresholdFen)
        ? 'pending'
        : 'applied';
      if (status === 'applied') await applyToLevel(tx, part.partNumber, line.locationId, line.quantity);
      await tx.insert(stockMovements).values({
        operationId,
        kind: line.kind,
        status,
        partNumber: part.partNumber,
        locationId: line.locationId,
        quantity: line.quantity,
        value,
        ticketNumber: line.ticketNumber ?? null,
        reason: request.reason ?? null,
        reference: line.reference ?? null,
        actorId: request.actorId,
      });
    }
    const movements = await operationMovements(tx, operationId);
    const arrived = movements.some((movement) => movement.status === 'applied' && movement.quantity > 0);
    if (arrived) await serveWaiting(tx, part.partNumber, operationId, request.actorId);
    await watchSafetyStock(tx, part.partNumber);
    return { operationId, movements, served: await servedBy(tx, operationId), replayed: false };
  });
}

export interface StockCount {
  /** What was counted (盘点): each part at each location at most once. */
  readonly lines: readonly { partNumber: string; locationId: string; counted: number }[];
  readonly reason: string;
  readonly actorId: string;
  readonly approvalThresholdFen: number;
  readonly idempotency?: { readonly scope: string; readonly key: string; readonly requestHash: string };
}

/**
 * A stock-take: each counted quantity against what is on hand now, with the parts' rows locked,
 * becomes an adjustment of the difference (盘盈 a gain, 盘亏 a loss; none when they agree), left
 * pending for a manager when worth more than the threshold, like any adjustment. A count below
 * what is reserved for tickets is refused, all of it: those parts are not there for the tickets
 * that hold them, and their reservations are released (a changed plan, a cancel) before the count
 * is booked. A gain serves waiting tickets.
 */
export async function recordStockCount(db: Database, count: StockCount): Promise<StockAnswer> {
  return db.transaction(async (tx) => {
    const operationId = randomUUID();
    const earlier = count.idempotency && (await claimKey(tx, count.idempotency, operationId));
    if (earlier) return stockAnswerOf(tx, earlier);
    const locationIds = [...new Set(count.lines.map((line) => line.locationId))];
    await requireLocations(tx, locationIds);
    const lines = [...count.lines].sort(
      (a, b) => a.partNumber.localeCompare(b.partNumber) || a.locationId.localeCompare(b.locationId),
    );
    const catalogue = new Map<string, { unitCost: number }>();
    for (const partNumber of new Set(lines.map((line) => line.partNumber))) {
      catalogue.set(partNumber, await lockPart(tx, partNumber));
    }
    const gained = new Set<string>();
    for (const { partNumber, locationId, counted } of lines) {
      const level = await levelOf(tx, partNumber, locationId);
      const booked = level?.onHand ?? 0;
      const reserved = level?.reserved ?? 0;
      if (counted < reserved) {
        throw new StockRefusal(
          'conflict',
          `part ${partNumber} at ${locationId}: counted ${counted} is below the ${reserved} reserved for tickets; release those reservations first`,
        );
      }
      const difference = counted - booked;
      if (difference === 0) continue;
      const value = movementValue(difference, catalogue.get(partNumber)?.unitCost ?? 0);
      const status: MovementStatus = needsApproval('adjustment', value, count.approvalThresholdFen)
        ? 'pending'
        : 'applied';
      if (status === 'applied') {
        await applyToLevel(tx, partNumber, locationId, difference);
        if (difference > 0) gained.add(partNumber);
      }
      await tx.insert(stockMovements).values({
        operationId,
        kind: 'adjustment',
        status,
        partNumber,
        locationId,
        quantity: difference,
        value,
        reason: count.reason,
        reference: `count: ${counted} counted, ${booked} booked`,
        actorId: count.actorId,
      });
    }
    for (const partNumber of gained) await serveWaiting(tx, partNumber, operationId, count.actorId);
    for (const partNumber of catalogue.keys()) await watchSafetyStock(tx, partNumber);
    const movements = await operationMovements(tx, operationId);
    return { operationId, movements, served: await servedBy(tx, operationId), replayed: false };
  });
}

/**
 * A manager's decision on a pending movement: approved, it applies now (a loss only from what is
 * available now); rejected, it never counts. A decided movement is not decided again.
 */
export async function decideMovement(
  db: Database,
  decision: { id: number; approve: boolean; actorId: string; reason?: string },
): Promise<{ movement: MovementRecord; served: ServedTicket[] }> {
  return db.transaction(async (tx) => {
    const [pending] = await tx.select().from(stockMovements).where(eq(stockMovements.id, decision.id));
    if (!pending) throw new StockRefusal('notFound', `no stock movement ${decision.id}`);
    await lockPart(tx, pending.partNumber);
    const [movement] = await tx.select().from(stockMovements).where(eq(stockMovements.id, decision.id));
    if (!movement || movement.status !== 'pending') {
      throw new StockRefusal(
        'conflict',
        `stock movement ${decision.id} is ${movement?.status ?? 'gone'}, not pending`,
      );
    }
    if (decision.approve) await applyToLevel(tx, movement.partNumber, movement.locationId, movement.quantity);
    const [decided] = await tx
      .update(stockMovements)
      .set({
        status: decision.approve ? 'applied' : 'rejected',
        decidedBy: decision.actorId,
        decidedAt: sql`now()`,
        ...(decision.reason !== undefined && {
          reason: sql`coalesce(${stockMovements.reason} || '; ', '') || ${decision.reason}`,
        }),
      })
      .where(eq(stockMovements.id, decision.id))
      .returning();
    if (!decided) throw new Error(`stock movement ${decision.id} vanished while it was decided`);
    // An approved gain serves waiting tickets; what it reserves is the approval's own operation.
    const approval = `approval-${decision.id}`;
    if (decision.approve && movement.quantity > 0) {
      await serveWaiting(tx, movement.partNumber, approval, decision.actorId);
    }
    await watchSafetyStock(tx, movement.partNumber);
    return { movement: presentMovement(decided), served: await servedBy(tx, approval) };
  });
}

export interface MovementFilters {
  readonly partNumber?: string;
  readonly locationId?: string;
  readonly kind?: readonly MovementKind[];
  readonly status?: readonly MovementStatus[];
  readonly ticketNumber?: string;
  readonly from?: string;
  readonly to?: string;
}

/** The ledger, oldest first: movements after `afterId` matching the filters, at most `limit`. */
export async function listMovements(
  db: Database,
  filters: MovementFilters,
  page: { afterId?: number; limit: number },
): Promise<MovementRecord[]> {
  const rows = await db
    .select()
    .from(stockMovements)
    .where(
      and(
        page.afterId === undefined ? undefined : gt(stockMovements.id, page.afterId),
        filters.partNumber === undefined ? undefined : eq(stockMovements.partNumber, filters.partNumber),
        filters.locationId === undefined ? undefined : eq(stockMovements.locationId, filters.locationId),
        filters.kind === undefined ? undefined : sql`${stockMovements.kind} in ${filters.kind}`,
        filters.status === undefined ? undefined : sql`${stockMovements.status} in ${filters.status}`,
        filters.ticketNumber === undefined
          ? undefined
          : eq(stockMovements.ticketNumber, filters.ticketNumber),
        filters.from === undefined ? undefined : gte(stockMovements.at, filters.from),
        filters.to === undefined ? undefined : lte(stockMovements.at, filters.to),
      ),
    )
    .orderBy(asc(stockMovements.id))
    .limit(page.limit);
  return rows.map(presentMovement);
}

export interface ReorderLine {
  readonly partNumber: string;
  readonly name: string;
  readonly available: number;
  readonly safetyStock: number;
  readonly issuedInLookback: number;
  readonly suggestedQuantity: number;
  readonly unitCost: number;
  readonly estimatedCost: number;
}

/**
 * What to buy: each part whose suggestion (domain/parts.ts `reorderQuantity`) is above zero, from
 * what was issued to tickets since `since` and what is available now.
 */
export async function reorderSuggestions(db: Database, since: string): Promise<ReorderLine[]> {
  const rows = await db.execute<{
    part_number: string;
    name: string;
    safety_stock: number;
    unit_cost: number;
    available: number;
    issued: number;
  }>(sql`
    select p.part_number, p.name, p.safety_stock, p.unit_cost,
           coalesce((select sum(l.on_hand - l.reserved) from stock_levels l
                     where l.part_number = p.part_number), 0)::int as available,
           coalesce((select -sum(m.quantity) from stock_movements m
                     where m.part_number = p.part_number and m.kind = 'issue' and m.status = 'applied'
                       and m.at >= ${since}::timestamptz), 0)::int as issued
    from parts p
    order by p.part_number`);
  return rows.flatMap((row) => {
    const suggestedQuantity = reorderQuantity(row.issued, row.available, row.safety_stock);
    if (suggestedQuantity === 0) return [];
    return [
      {
        partNumber: row.part_number,
        name: row.name,
        available: row.available,
        safetyStock: row.safety_stock,
        issuedInLookback: row.issued,
        suggestedQuantity,
        unitCost: row.unit_cost,
        estimatedCost: suggestedQuantity * row.unit_cost,
      },
    ];
  });
}

export interface ReservationRecord {
  readonly id: number;
  readonly requestId: string;
  readonly ticketNumber: string;
  readonly partNumber: string;
  readonly locationId: string;
  readonly quantity: number;
  readonly status: ReservationStatus;
  readonly issuedQuantity: number;
  readonly unitPrice: number;
  readonly freeUnderWarranty: boolean;
  /** What the customer pays for it: nothing under warranty; what was issued once settled. */
  readonly charged: number;
  readonly oldPartDisposition: OldPartDisposition | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly settledAt: string | null;
}

type ReservationRow = typeof partReservations.$inferSelect;

function presentReservation({ settlement: _settlement, ...row }: ReservationRow): ReservationRecord {
  const held = row.status === 'reserved' || row.status === 'awaiting_approval';
  const counted = held ? row.quantity : row.issuedQuantity;
  return {
    ...row,
    charged: row.freeUnderWarranty ? 0 : counted * row.unitPrice,
    requestedAt: iso(row.requestedAt),
    decidedAt: row.decidedAt === null ? null : iso(row.decidedAt),
    settledAt: row.settledAt === null ? null : iso(row.settledAt),
  };
}

export interface PartsRequest {
  readonly ticketNumber: string;
  readonly lines: readonly { readonly partNumber: string; readonly quantity: number }[];
  /** The ticket's engineer: its van is searched first. */
  readonly assignee: string | null;
  readonly freeUnderWarranty: boolean;
  readonly actorId: string;
  /** The request's Idempotency-Key and body hash; without a key every request is a new one. */
  readonly idempotency?: { readonly key: string; readonly requestHash: string };
}

export interface PartsRequestAnswer {
  readonly requestId: string;
  readonly reservations: ReservationRecord[];
  readonly shortfalls: { partNumber: string; quantity: number; proposals: ShortfallProposal[] }[];
  /** The ticket still waits for parts after it: this request's shortfalls or an earlier one's. */
  readonly waiting: boolean;
  readonly replayed: boolean;
}

/** The request's lines as one quantity per part, in part-number order (the order parts are locked in). */
function merged(lines: PartsRequest['lines']): [string, number][] {
  const byPart = new Map<string, number>();
  for (const line of lines) byPart.set(line.partNumber, (byPart.get(line.partNumber) ?? 0) + line.quantity);
  return [...byPart].sort(([a], [b]) => a.localeCompare(b));
}

/**
 * Reserves a ticket's parts nearest first (domain/parts.ts `nearestFirst`), each part's row locked,
 * so concurrent requests for the last units get exactly what there is. What none of those locations
 * has is a shortfall, with proposals: a transfer from where it is free, or a purchase. The ticket's
 * row is read under a share lock: a resolve or cancel being recorded finishes first, and a ticket
 * past resolve takes no parts.
 */
export async function reserveForTicket(db: Database, request: PartsRequest): Promise<PartsRequestAnswer> {
  return db.transaction(async (tx) => {
    const requestId = randomUUID();
    const [ticket] = await tx
      .select({ status: tickets.status })
      .from(tickets)
      .where(eq(tickets.number, request.ticketNumber))
      .for('share');
    if (!ticket) throw new StockRefusal('notFound', `no ticket ${request.ticketNumber}`);
    if (!(PARTS_REQUEST_STATUSES as readonly string[]).includes(ticket.status)) {
      throw new StockRefusal(
        'conflict',
        `ticket ${request.ticketNumber} is ${ticket.status}; parts are requested before it is resolved`,
      );
    }
    const earlier =
      request.idempotency &&
      (await claimKey(
        tx,
        { ...request.idempotency, scope: `parts-request:${request.ticketNumber}` },
        requestId,
      ));
    if (earlier) {
      const answer = await answerOf(tx, earlier, request);
      return { ...answer, waiting: await isWaiting(tx, request.ticketNumber), replayed: true };
    }
    const locations = await tx.select().from(stockLocations);
    const order = nearestFirst(locations, request.assignee);
    for (const [partNumber, need] of merged(request.lines)) {
      const part = await lockPart(tx, partNumber);
      // A new request for a part replaces what the ticket still awaited of it.
      await tx
        .update(partShortfalls)
        .set({
          withdrawn: sql`${partShortfalls.quantity} - ${partShortfalls.filled}`,
          withdrawnBy: requestId,
        })
        .where(
          and(
            eq(partShortfalls.ticketNumber, request.ticketNumber),
            eq(partShortfalls.partNumber, partNumber),
            sql`${partShortfalls.filled} + ${partShortfalls.withdrawn} < ${partShortfalls.quantity}`,
          ),
        );
      const levels = await tx.select().from(stockLevels).where(eq(stockLevels.partNumber, partNumber));
      const levelAt = (locationId: string) =>
        levels.find((level) => level.locationId === locationId) ?? { locationId, onHand: 0, reserved: 0 };
      const { allocations } = allocate(
        need,
        order.map((location) => levelAt(location.id)),
      );
      for (const { locationId, quantity } of allocations) {
        await tx
          .update(stockLevels)
          .set({ reserved: sql`${stockLevels.reserved} + ${quantity}` })
          .where(and(eq(stockLevels.partNumber, partNumber), eq(stockLevels.locationId, locationId)));
        await tx.insert(partReservations).values({
          requestId,
          ticketNumber: request.ticketNumber,
          partNumber,
          locationId,
          quantity,
          status: needsManagerApproval(part) ? 'awaiting_approval' : 'reserved',
          unitPrice: part.unitPrice,
          freeUnderWarranty: request.freeUnderWarranty,
          requestedBy: request.actorId,
        });
      }
      await watchSafetyStock(tx, partNumber);
    }
    const answer = await answerOf(tx, requestId, request);
    if (answer.shortfalls.length > 0) {
      await tx.insert(partShortfalls).values(
        answer.shortfalls.map(({ partNumber, quantity }) => ({
          requestId,
          ticketNumber: request.ticketNumber,
          partNumber,
          quantity,
          freeUnderWarranty: request.freeUnderWarranty,
        })),
      );
    }
    return { ...answer, waiting: await isWaiting(tx, request.ticketNumber), replayed: false };
  });
}

/** A request's reservations, and for each part what is short with what would cover it. */
async function answerOf(
  tx: Transaction,
  requestId: string,
  request: PartsRequest,
): Promise<Omit<PartsRequestAnswer, 'replayed' | 'waiting'>> {
  const rows = await tx
    .select()
    .from(partReservations)
    .where(eq(partReservations.requestId, requestId))
    .orderBy(asc(partReservations.id));
  const searched = new Set(
    nearestFirst(await tx.select().from(stockLocations), request.assignee).map((location) => location.id),
  );
  const shortfalls: PartsRequestAnswer['shortfalls'] = [];
  for (const [partNumber, need] of merged(request.lines)) {
    const reserved = rows
      .filter((row) => row.partNumber === partNumber)
      .reduce((sum, row) => sum + row.quantity, 0);
    if (reserved >= need) continue;
    const elsewhere = (
      await tx.select().from(stockLevels).where(eq(stockLevels.partNumber, partNumber))
    ).filter((level) => !searched.has(level.locationId));
    shortfalls.push({
      partNumber,
      quantity: need - reserved,
      proposals: proposeForShortfall(need - reserved, elsewhere),
    });
  }
  return { requestId, reservations: rows.map(presentReservation), shortfalls };
}

/** A ticket's reservations, oldest first. */
export async function listTicketReservations(
  db: Database,
  ticketNumber: string,
): Promise<ReservationRecord[]> {
  const rows = await db
    .select()
    .from(partReservations)
    .where(eq(partReservations.ticketNumber, ticketNumber))
    .orderBy(asc(partReservations.id));
  return rows.map(presentReservation);
}

export interface Settlement {
  readonly ticketNumber: string;
  /** `issue` at resolve: what was used is issued, the rest released; `release` at cancel: all of it. */
  readonly outcome: 'issue' | 'release';
  /** Used quantities by part number (the resolve's service record). */
  readonly used: Readonly<Record<string, number>>;
  readonly dispositions: Readonly<Record<string, OldPartDisposition>>;
  /** The workflow step's key: the issue movements' operation id. */
  readonly key: string;
  readonly actorId: string;
}

/**
 * Settles what a ticket still holds, in one transaction: issued rows leave the ledger (kind `issue`,
 * against the ticket), the rest goes back to available. Only `reserved` rows are settled, so a
 * repeat of the same step (a retried activity, a worker that died before it reported) finds
 * nothing left and writes nothing.
 */
export async function settleReservations(
  db: Database,
  settlement: Settlement,
): Promise<{ issued: number; released: number; unreserved: Record<string, number> }> {
  return db.transaction(async (tx) => {
    const held = () =>
      tx
        .select()
        .from(partReservations)
        .where(
          and(
            eq(partReservations.ticketNumber, settlement.ticketNumber),
            inArray(partReservations.status, ['reserved', 'awaiting_approval']),
          ),
        )
        .orderBy(asc(partReservations.id));
    const partNumbers = [...new Set((await held()).map((row) => row.partNumber))].sort();
    const unitCosts = new Map<string, number>();
    for (const partNumber of partNumbers)
      unitCosts.set(partNumber, (await lockPart(tx, partNumber)).unitCost);
    const rows = await held().for('update');
    // A part still awaiting approval is not issued: it is released with the rest.
    const plan = settleUse(
      rows.filter((row) => row.status === 'reserved'),
      settlement.outcome === 'issue' ? settlement.used : {},
    );
    let issuedTotal = 0;
    for (const row of rows) {
      const issued = plan.issue.find((entry) => entry.id === row.id)?.quantity ?? 0;
      issuedTotal += issued;
      await tx
        .update(stockLevels)
        .set({
          reserved: sql`${stockLevels.reserved} - ${row.quantity}`,
          onHand: sql`${stockLevels.onHand} - ${issued}`,
        })
        .where(and(eq(stockLevels.partNumber, row.partNumber), eq(stockLevels.locationId, row.locationId)));
      if (issued > 0) {
        await tx.insert(stockMovements).values({
          operationId: settlement.key,
          kind: 'issue',
          status: 'applied',
          partNumber: row.partNumber,
          locationId: row.locationId,
          quantity: -issued,
          value: movementValue(issued, unitCosts.get(row.partNumber) ?? 0),
          ticketNumber: settlement.ticketNumber,
          actorId: settlement.actorId,
        });
      }
      await tx
        .update(partReservations)
        .set({
          status: issued > 0 ? 'issued' : 'released',
          issuedQuantity: issued,
          oldPartDisposition: issued > 0 ? (settlement.dispositions[row.partNumber] ?? null) : null,
          settlement: settlement.key,
          settledAt: sql`now()`,
        })
        .where(eq(partReservations.id, row.id));
    }
    for (const partNumber of partNumbers) await watchSafetyStock(tx, partNumber);
    const heldTotal = rows.reduce((sum, row) => sum + row.quantity, 0);
    return { issued: issuedTotal, released: heldTotal - issuedTotal, unreserved: plan.unreserved };
  });
}

export interface PlanRelease {
  readonly ticketNumber: string;
  /** What the new plan needs, by part number: anything beyond it is let go. */
  readonly keep: Readonly<Record<string, number>>;
  /** The workflow step's key: claimed once, so a repeat writes nothing and answers what the first did. */
  readonly key: string;
}

export interface PlanReleaseAnswer {
  readonly released: PartQuantities;
  readonly withdrawn: PartQuantities;
  /** The ticket still waits for parts (an open shortfall). */
  readonly stillWaiting: boolean;
  /** Reservations still awaiting a manager's approval. */
  readonly awaitingApproval: number;
}

/** Quantities summed by part, in part-number order. */
function byPart(rows: readonly { partNumber: string; quantity: number }[]): PartQuantities {
  const sums = new Map<string, number>();
  for (const row of rows) sums.set(row.partNumber, (sums.get(row.partNumber) ?? 0) + row.quantity);
  return [...sums]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([partNumber, quantity]) => ({ partNumber, quantity }));
}

/** A ticket's open shortfalls, oldest first, with what each still awaits. */
function openShortfallsOf(tx: Transaction, ticketNumber: string) {
  return tx
    .select()
    .from(partShortfalls)
    .where(
      and(
        eq(partShortfalls.ticketNumber, ticketNumber),
        sql`${partShortfalls.filled} + ${partShortfalls.withdrawn} < ${partShortfalls.quantity}`,
      ),
    )
    .orderBy(asc(partShortfalls.at), asc(partShortfalls.id));
}

const openOf = (row: typeof partShortfalls.$inferSelect): number => row.quantity - row.filled - row.withdrawn;

/** Whether the ticket still awaits parts: an open shortfall. */
async function isWaiting(tx: Transaction, ticketNumber: string): Promise<boolean> {
  return (await openShortfallsOf(tx, ticketNumber).limit(1)).length > 0;
}

/**
 * A changed plan (domain/parts.ts `planRelease`): in one transaction, what the ticket holds beyond
 * what the plan needs goes back to available (a reservation partly kept is split: the released part
 * becomes a row of its own) and what it waits for beyond it stops being awaited. The step's key is
 * claimed in the same transaction, so a retried or replayed step (a worker killed after the commit)
 * writes nothing twice, even when the ticket requested more parts meanwhile. No ledger row: on hand
 * does not change.
 */
export async function releaseUnplanned(db: Database, release: PlanRelease): Promise<PlanReleaseAnswer> {
  return db.transaction(async (tx) => {
    const { ticketNumber, key } = release;
    const keep = Object.entries(release.keep).sort(([a], [b]) => a.localeCompare(b));
    const earlier = await claimKey(
      tx,
      { scope: `parts-plan:${ticketNumber}`, key, requestHash: JSON.stringify(keep) },
      key,
    );
    if (earlier === undefined) {
      const held = () =>
        tx
          .select()
          .from(partReservations)
          .where(
            and(
              eq(partReservations.ticketNumber, ticketNumber),
              inArray(partReservations.status, ['reserved', 'awaiting_approval']),
            ),
          )
          .orderBy(asc(partReservations.id));
      const partNumbers = [
        ...new Set(
          [...(await held()), ...(await openShortfallsOf(tx, ticketNumber))].map((row) => row.partNumber),
        ),
      ].sort();
      for (const partNumber of partNumbers) await lockPart(tx, partNumber);
      const rows = await held().for('update');
      const open = await openShortfallsOf(tx, ticketNumber).for('update');
      const plan = planRelease(
        rows,
        open.map((row) => ({ id: row.id, partNumber: row.partNumber, open: openOf(row) })),
        release.keep,
      );
      for (const { id, quantity } of plan.release) {
        const row = rows.find((candidate) => candidate.id === id);
        if (!row) continue;
        await tx
          .update(stockLevels)
          .set({ reserved: sql`${stockLevels.reserved} - ${quantity}` })
          .where(and(eq(stockLevels.partNumber, row.partNumber), eq(stockLevels.locationId, row.locationId)));
        const settled = { status: 'released' as const, settlement: key, settledAt: sql`now()` };
        if (quantity === row.quantity) {
          await tx.update(partReservations).set(settled).where(eq(partReservations.id, id));
          continue;
        }
        await tx
          .update(partReservations)
          .set({ quantity: row.quantity - quantity })
          .where(eq(partReservations.id, id));
        const { id: _id, settledAt: _settledAt, ...copy } = row;
        await tx.insert(partReservations).values({ ...copy, ...settled, quantity });
      }
      for (const { id, quantity } of plan.withdraw) {
        await tx
          .update(partShortfalls)
          .set({ withdrawn: sql`${partShortfalls.withdrawn} + ${quantity}`, withdrawnBy: key })
          .where(eq(partShortfalls.id, id));
      }
      for (const partNumber of partNumbers) await watchSafetyStock(tx, partNumber);
    }
    const released = await tx
      .select()
      .from(partReservations)
      .where(and(eq(partReservations.ticketNumber, ticketNumber), eq(partReservations.settlement, key)));
    const withdrawn = await tx
      .select()
      .from(partShortfalls)
      .where(and(eq(partShortfalls.ticketNumber, ticketNumber), eq(partShortfalls.withdrawnBy, key)));
    const [awaiting] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(partReservations)
      .where(
        and(
          eq(partReservations.ticketNumber, ticketNumber),
          eq(partReservations.status, 'awaiting_approval'),
        ),
      );
    return {
      released: byPart(released),
      withdrawn: byPart(withdrawn.map((row) => ({ partNumber: row.partNumber, quantity: row.withdrawn }))),
      stillWaiting: await isWaiting(tx, ticketNumber),
      awaitingApproval: awaiting?.n ?? 0,
    };
  });
}

export interface PartsReport {
  readonly period: { from: string; to: string; timeZone: string };
  readonly issued: { quantity: number; value: number; tickets: number };
  readonly averagePartsCostPerTicket: number | null;
  readonly received: { quantity: number; rejected: number };
  readonly scrapped: { quantity: number; value: number };
  readonly stockNow: { onHand: number; value: number };
  readonly turnover: number | null;
  readonly stockOuts: { tickets: number; ticketsRequestingParts: number; sharePercent: number | null };
  readonly topConsumed: { model: string; partNumber: string; quantity: number; value: number }[];
}

/**
 * The parts group's monthly figures (seed 004's 平均配件成本, seed 003's 配件库存周转率): what was
 * issued to tickets at unit cost (not price), received, scrapped; the turnover (issues at cost over
 * the stock's value at cost now); the tickets a stock-out delayed; the parts most used per model.
 */
export async function partsReport(
  db: Database,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
  { timeoutMs }: { readonly timeoutMs: number },
): Promise<PartsReport> {
  return runReport(db, timeoutMs, (rows) => buildPartsReport(rows, period));
}

/** The parts report's queries, run by `rows` within a report's budget (the summary report's too). */
export async function buildPartsReport(
  rows: ReportQuery,
  period: { from: string; to: string; fromInstant: string; toInstant: string; timeZone: string },
): Promise<PartsReport> {
  const inPeriod = (column: SQL) =>
    sql`${column} >= ${period.fromInstant}::timestamptz and ${column} < ${period.toInstant}::timestamptz`;
  const [moved] = await rows<Record<string, number>>(sql`
    select coalesce(-sum(quantity) filter (where kind = 'issue'), 0)::int as issued,
           coalesce(sum(value) filter (where kind = 'issue'), 0)::bigint as issued_value,
           count(distinct ticket_number) filter (where kind = 'issue')::int as tickets,
           coalesce(sum(quantity) filter (where kind = 'receipt'), 0)::int as received,
           coalesce(-sum(quantity) filter (where kind = 'supplier_return'), 0)::int as rejected,
           coalesce(-sum(quantity) filter (where kind = 'scrap'), 0)::int as scrapped,
           coalesce(sum(value) filter (where kind = 'scrap'), 0)::bigint as scrapped_value
    from stock_movements m
    where m.status = 'applied' and ${inPeriod(sql`m.at`)}`);
  const [stock] = await rows<Record<string, number>>(sql`
    select coalesce(sum(l.on_hand), 0)::int as on_hand, coalesce(sum(l.on_hand::bigint * p.unit_cost), 0)::bigint as value
    from stock_levels l join parts p on p.part_number = l.part_number`);
  // A ticket requested parts when it reserved some or was told of a shortfall.
  const [requests] = await rows<Record<string, number>>(sql`
    select (select count(*)::int from (
              select r.ticket_number from part_reservations r where ${inPeriod(sql`r.requested_at`)}
              union
              select s.ticket_number from part_shortfalls s where ${inPeriod(sql`s.at`)}) requested) as requesting,
           (select count(distinct s.ticket_number)::int from part_shortfalls s
            where ${inPeriod(sql`s.at`)}) as short`);
  const top = await rows<{ model: string; part_number: string; quantity: number; value: number }>(sql`
    select coalesce(t.product_model, 'unknown') as model, m.part_number,
           (-sum(m.quantity))::int as quantity, sum(m.value)::bigint as value
    from stock_movements m join tickets t on t.number = m.ticket_number
    where m.kind = 'issue' and m.status = 'applied' and ${inPeriod(sql`m.at`)}
    group by 1, 2 order by 3 desc, 1, 2 limit 10`);
  const figure = (row: Record<string, number> | undefined, key: string) => Number(row?.[key] ?? 0);
  const issuedValue = figure(moved, 'issued_value');
  const tickets = figure(moved, 'tickets');
  const stockValue = figure(stock, 'value');
  const requesting = figure(requests, 'requesting');
  const short = figure(requests, 'short');
  return {
    period: { from: period.from, to: period.to, timeZone: period.timeZone },
    issued: { quantity: figure(moved, 'issued'), value: issuedValue, tickets },
    averagePartsCostPerTicket: tickets > 0 ? Math.round(issuedValue / tickets) : null,
    received: { quantity: figure(moved, 'received'), rejected: figure(moved, 'rejected') },
    scrapped: { quantity: figure(moved, 'scrapped'), value: figure(moved, 'scrapped_value') },
    stockNow: { onHand: figure(stock, 'on_hand'), value: stockValue },
    turnover: stockValue > 0 ? Number((issuedValue / stockValue).toFixed(2)) : null,
    stockOuts: {
      tickets: short,
      ticketsRequestingParts: requesting,
      sharePercent: requesting > 0 ? Number(((short / requesting) * 100).toFixed(1)) : null,
    },
    topConsumed: top.map((row) => ({
      model: row.model,
      partNumber: row.part_number,
      quantity: Number(row.quantity),
      value: Number(row.value),
    })),
  };
}

/**
 * A manager's decision on a valuable or limited part a ticket reserved: approved, it may be issued
 * at resolve; rejected, it goes back to available. Only one awaiting approval is decided.
 */
export async function decideReservation(
  db: Database,
  decision: { ticketNumber: string; id: number; approve: boolean; actorId: string },
): Promise<ReservationRecord> {
  return db.transaction(async (tx) => {
    const find = () =>
      tx
        .select()
        .from(partReservations)
        .where(
          and(eq(partReservations.id, decision.id), eq(partReservations.ticketNumber, decision.ticketNumber)),
        );
    const [found] = await find();
    if (!found)
      throw new StockRefusal('notFound', `ticket ${decision.ticketNumber} has no reservation ${decision.id}`);
    await lockPart(tx, found.partNumber);
    const [row] = await find().for('update');
    if (!row || row.status !== 'awaiting_approval') {
      throw new StockRefusal(
        'conflict',
        `reservation ${decision.id} is ${row?.status ?? 'gone'}, not awaiting approval`,
      );
    }
    if (!decision.approve) {
      await tx
        .update(stockLevels)
        .set({ reserved: sql`${stockLevels.reserved} - ${row.quantity}` })
        .where(and(eq(stockLevels.partNumber, row.partNumber), eq(stockLevels.locationId, row.locationId)));
    }
    const [decided] = await tx
      .update(partReservations)
      .set({
        status: decision.approve ? 'reserved' : 'released',
        decidedBy: decision.actorId,
        decidedAt: sql`now()`,
        ...(!decision.approve && { settledAt: sql`now()` }),
      })
      .where(eq(partReservations.id, row.id))
      .returning();
    if (!decided) throw new Error(`reservation ${decision.id} vanished while it was decided`);
    await watchSafetyStock(tx, row.partNumber);
    return presentReservation(decided);
  });
}
