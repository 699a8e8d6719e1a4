import { and, eq, sql } from 'drizzle-orm';
import { movementValue } from '../domain/parts';
import type { UnitDisposition } from '../domain/returns';
import type { Database } from './client';
import { settleReservations } from './parts-store';
import { parts, stockLevels, stockLocations, stockMovements } from './schema';

/**
 * An exchange's stock (seed 003: the parts group takes the replacement from stock and books the
 * returned unit in). Both go through the stock ledger; each is keyed by its workflow step, so a
 * retried activity answers what the first did and writes nothing twice.
 */
export interface ReplacementIssue {
  readonly ticketNumber: string;
  readonly partNumber: string;
  readonly key: string;
  readonly actorId: string;
}

async function issuedBy(db: Database, key: string): Promise<number> {
  const [row] = await db
    .select({ issued: sql<number>`coalesce(sum(-${stockMovements.quantity}), 0)::int` })
    .from(stockMovements)
    .where(and(eq(stockMovements.operationId, key), eq(stockMovements.kind, 'issue')));
  return row?.issued ?? 0;
}

/**
 * Issues one replacement from what the ticket reserved (`parts-request`), the rest released; 0 when
 * it reserved none of that part.
 */
export async function issueReplacement(db: Database, issue: ReplacementIssue): Promise<number> {
  const before = await issuedBy(db, issue.key);
  if (before > 0) return before;
  const settled = await settleReservations(db, {
    ticketNumber: issue.ticketNumber,
    outcome: 'issue',
    used: { [issue.partNumber]: 1 },
    dispositions: {},
    key: issue.key,
    actorId: issue.actorId,
  });
  return settled.issued;
}

export interface ReturnedUnit {
  readonly ticketNumber: string;
  readonly partNumber: string;
  readonly locationId: string;
  readonly disposition: UnitDisposition;
  readonly key: string;
  readonly actorId: string;
}

/**
 * Books the customer's unit into the ledger: a receipt at the location (restock: sellable stock;
 * refurbish: the location that refurbishes it), and for scrap the receipt and its scrapping, so the
 * unit is accounted for and on hand is unchanged. Returns why it cannot (unknown part or location),
 * or null when it is booked.
 */
export async function bookReturnedUnit(db: Database, unit: ReturnedUnit): Promise<string | null> {
  return db.transaction(async (tx) => {
    const [booked] = await tx
      .select({ id: stockMovements.id })
      .from(stockMovements)
      .where(eq(stockMovements.operationId, unit.key))
      .limit(1);
    if (booked) return null;
    const [part] = await tx.select().from(parts).where(eq(parts.partNumber, unit.partNumber)).for('update');
    if (!part) return `no part ${unit.partNumber} in the catalogue`;
    const [location] = await tx
      .select({ id: stockLocations.id })
      .from(stockLocations)
      .where(eq(stockLocations.id, unit.locationId));
    if (!location) return `no stock location ${unit.locationId}`;
    const row = {
      operationId: unit.key,
      status: 'applied' as const,
      partNumber: unit.partNumber,
      locationId: unit.locationId,
      value: movementValue(1, part.unitCost),
      ticketNumber: unit.ticketNumber,
      reason: `customer unit: ${unit.disposition}`,
      actorId: unit.actorId,
    };
    await tx.insert(stockMovements).values({ ...row, kind: 'receipt', quantity: 1 });
    if (unit.disposition === 'scrap') {
      await tx.insert(stockMovements).values({ ...row, kind: 'scrap', quantity: -1 });
      return null;
    }
    await tx
      .insert(stockLevels)
      .values({ partNumber: unit.partNumber, locationId: unit.locationId, onHand: 1 })
      .onConflictDoUpdate({
        target: [stockLevels.partNumber, stockLevels.locationId],
        set: { onHand: sql`${stockLevels.onHand} + 1` },
      });
    return null;
  });
}

export interface RefusedReplacement {
  readonly ticketNumber: string;
  /** The key the replacement was issued under (`issueReplacement`). */
  readonly issueKey: string;
  /** This step's key: the return movements' operation id. */
  readonly key: string;
  readonly actorId: string;
}

/**
 * A replacement the customer refused comes back into stock where it was issued from: one
 * `customer_return` movement per issue row, at the issue's value, and on hand up by as much, in one
 * transaction. The part is locked before the key is looked up, so a retried or concurrent step
 * finds the first one's rows and writes nothing; returns how many units came back (0 when the
 * replacement left no issue in the ledger).
 */
export async function returnRefusedReplacement(db: Database, refused: RefusedReplacement): Promise<number> {
  return db.transaction(async (tx) => {
    const issued = await tx
      .select()
      .from(stockMovements)
      .where(and(eq(stockMovements.operationId, refused.issueKey), eq(stockMovements.kind, 'issue')))
      .orderBy(stockMovements.id);
    for (const partNumber of [...new Set(issued.map((row) => row.partNumber))].sort()) {
      await tx
        .select({ partNumber: parts.partNumber })
        .from(parts)
        .where(eq(parts.partNumber, partNumber))
        .for('update');
    }
    const [earlier] = await tx
      .select({ returned: sql<number>`coalesce(sum(${stockMovements.quantity}), 0)::int` })
      .from(stockMovements)
      .where(eq(stockMovements.operationId, refused.key));
    if ((earlier?.returned ?? 0) > 0) return earlier?.returned ?? 0;
    let returned = 0;
    for (const row of issued) {
      const quantity = -row.quantity;
      returned += quantity;
      await tx.insert(stockMovements).values({
        operationId: refused.key,
        kind: 'customer_return',
        status: 'applied',
        partNumber: row.partNumber,
        locationId: row.locationId,
        quantity,
        value: row.value,
        ticketNumber: refused.ticketNumber,
        reason: 'refused replacement',
        actorId: refused.actorId,
      });
      await tx
        .insert(stockLevels)
        .values({ partNumber: row.partNumber, locationId: row.locationId, onHand: quantity })
        .onConflictDoUpdate({
          target: [stockLevels.partNumber, stockLevels.locationId],
          set: { onHand: sql`${stockLevels.onHand} + ${quantity}` },
        });
    }
    return returned;
  });
}
