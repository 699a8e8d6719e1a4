import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import {
  assignRefusal,
  chooseEngineer,
  type AssignRefusal,
  type DispatchNeeds,
  type EngineerLoad,
} from '../domain/dispatch';
import type { Database, Transaction } from './client';
import { engineers, ticketAssignments } from './schema';

/** Engineers and the dispatch reservation that counts their open load. */
export interface EngineerInput {
  readonly id: string;
  readonly name: string;
  readonly skills: readonly string[];
  readonly regions: readonly string[];
  readonly location?: { readonly latitude: number; readonly longitude: number };
  readonly capacity?: number;
  readonly active?: boolean;
}

export interface EngineerRecord {
  readonly id: string;
  readonly name: string;
  readonly skills: string[];
  readonly regions: string[];
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly capacity: number;
  readonly active: boolean;
  readonly openLoad: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Creates or replaces an engineer; returns whether it was new. */
export async function upsertEngineer(db: Database, input: EngineerInput): Promise<boolean> {
  const values = {
    id: input.id,
    name: input.name,
    skills: [...input.skills],
    regions: [...input.regions],
    latitude: input.location?.latitude ?? null,
    longitude: input.location?.longitude ?? null,
    capacity: input.capacity ?? 3,
    active: input.active ?? true,
  };
  const [row] = await db
    .insert(engineers)
    .values(values)
    .onConflictDoUpdate({ target: engineers.id, set: { ...values, updatedAt: sql`now()` } })
    .returning({ created: sql<boolean>`(xmax = 0)` });
  return row?.created ?? false;
}

/** Tickets the engineer holds now; a re-dispatch leaves out the ticket's own place, which it gives up. */
const openLoad = (exceptTicket?: string) => sql<number>`(
  select count(*)::int from ${ticketAssignments}
  where ${ticketAssignments.engineerId} = ${engineers.id} and ${ticketAssignments.active}
  ${exceptTicket === undefined ? sql`` : sql`and ${ticketAssignments.ticketNumber} <> ${exceptTicket}`}
)`;

function select(db: Database, where?: SQL) {
  return db
    .select({
      id: engineers.id,
      name: engineers.name,
      skills: engineers.skills,
      regions: engineers.regions,
      latitude: engineers.latitude,
      longitude: engineers.longitude,
      capacity: engineers.capacity,
      active: engineers.active,
      openLoad: openLoad(),
      createdAt: engineers.createdAt,
      updatedAt: engineers.updatedAt,
    })
    .from(engineers)
    .where(where)
    .orderBy(asc(engineers.id));
}

const normalise = (row: EngineerRecord): EngineerRecord => ({
  ...row,
  createdAt: new Date(row.createdAt).toISOString(),
  updatedAt: new Date(row.updatedAt).toISOString(),
});

export async function listEngineers(
  db: Database,
  filters: { active?: boolean; skill?: string; region?: string } = {},
): Promise<EngineerRecord[]> {
  const conditions: SQL[] = [];
  if (filters.active !== undefined) conditions.push(eq(engineers.active, filters.active));
  if (filters.skill) conditions.push(sql`${engineers.skills} @> ${JSON.stringify([filters.skill])}::jsonb`);
  if (filters.region)
    conditions.push(sql`${engineers.regions} @> ${JSON.stringify([filters.region])}::jsonb`);
  return (await select(db, and(...conditions))).map(normalise);
}

export async function findEngineer(db: Database, id: string): Promise<EngineerRecord | undefined> {
  const [row] = await select(db, eq(engineers.id, id));
  return row && normalise(row);
}

/**
 * What a manual assignment of `ticketNumber` checks of the engineer: active, capacity, and the open
 * load it holds apart from this ticket. Undefined when there is no such engineer.
 */
export async function findEngineerLoad(
  db: Database | Transaction,
  engineerId: string,
  ticketNumber: string,
): Promise<EngineerLoad | undefined> {
  const [row] = await db
    .select({ active: engineers.active, capacity: engineers.capacity, openLoad: openLoad(ticketNumber) })
    .from(engineers)
    .where(eq(engineers.id, engineerId));
  return row;
}

/**
 * Serialises dispatch, automatic and manual alike, so two tickets cannot both take an engineer's
 * last free place.
 */
export const DISPATCH_LOCK = 0x0d15_9a7c;

/**
 * Picks an engineer for a ticket's dispatch attempt and reserves the place, in one transaction. The
 * same attempt retried (a crashed activity) gets the same answer; nobody matching releases the
 * ticket's earlier reservation and returns null.
 */
export async function reserveEngineer(
  db: Database,
  request: {
    ticketNumber: string;
    attempt: number;
    needs: DispatchNeeds;
    exclude: readonly string[];
    assignedAt: string;
  },
): Promise<string | null> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${DISPATCH_LOCK})`);
    const [earlier] = await tx
      .select()
      .from(ticketAssignments)
      .where(eq(ticketAssignments.ticketNumber, request.ticketNumber));
    if (earlier && earlier.attempt === request.attempt) return earlier.active ? earlier.engineerId : null;
    const candidates = await tx
      .select({
        id: engineers.id,
        skills: engineers.skills,
        regions: engineers.regions,
        latitude: engineers.latitude,
        longitude: engineers.longitude,
        capacity: engineers.capacity,
        active: engineers.active,
        openLoad: openLoad(request.ticketNumber),
      })
      .from(engineers)
      .where(eq(engineers.active, true));
    const chosen = chooseEngineer(request.needs, candidates, request.exclude);
    if (!chosen) {
      await tx
        .update(ticketAssignments)
        .set({ active: false, attempt: request.attempt })
        .where(eq(ticketAssignments.ticketNumber, request.ticketNumber));
      return null;
    }
    await tx
      .insert(ticketAssignments)
      .values({
        ticketNumber: request.ticketNumber,
        engineerId: chosen.id,
        attempt: request.attempt,
        active: true,
        assignedAt: request.assignedAt,
      })
      .onConflictDoUpdate({
        target: ticketAssignments.ticketNumber,
        set: {
          engineerId: chosen.id,
          attempt: request.attempt,
          active: true,
          assignedAt: request.assignedAt,
        },
      });
    return chosen.id;
  });
}

export interface ManualAssignment {
  readonly ticketNumber: string;
  readonly engineerId: string;
  /** The assigner knowingly overloads the engineer (`overCapacity: true`). */
  readonly overCapacity: boolean;
  /** The ticket's dispatch attempt, for a ticket that never had a place: what its projection writes. */
  readonly attempt: number;
  readonly assignedAt: string;
}

/**
 * A manual assign's check and its place, in one transaction under the dispatch lock: the engineer
 * must pass `assignRefusal` (counting what it holds apart from this ticket), and then the ticket's
 * place is this engineer's at once, so a second assign to it — of another ticket, or automatic
 * dispatch — counts it. Null when reserved, else why not (nothing written). A repeat (a retried
 * activity) answers alike and writes the same.
 */
export async function reserveManualAssignment(
  db: Database,
  request: ManualAssignment,
): Promise<AssignRefusal | null> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${DISPATCH_LOCK})`);
    const engineer = await findEngineerLoad(tx, request.engineerId, request.ticketNumber);
    const refusal = assignRefusal(request.engineerId, engineer, request.overCapacity);
    if (refusal) return refusal;
    await tx
      .insert(ticketAssignments)
      .values({
        ticketNumber: request.ticketNumber,
        engineerId: request.engineerId,
        attempt: request.attempt,
        active: true,
        assignedAt: request.assignedAt,
      })
      .onConflictDoUpdate({
        target: ticketAssignments.ticketNumber,
        set: { engineerId: request.engineerId, active: true },
      });
    return null;
  });
}

/**
 * Gives back a place `reserveManualAssignment` took for an assign that was then refused: the row
 * says again what the ticket's state says (its assignee, holding the place or not), as its next
 * projection write would. Only while the row still names the reserved engineer (compare-and-set),
 * so a repeat, or a row another write has taken since, changes nothing. Whether the row was still
 * the reservation's (and so was set).
 */
export async function releaseManualAssignment(
  db: Database,
  release: {
    ticketNumber: string;
    /** The engineer the refused assign reserved. */
    engineerId: string;
    /** Whom the ticket's state names, and whether it holds the place (`holdsEngineer`). */
    assignee: string | null;
    holds: boolean;
  },
): Promise<boolean> {
  const rows = await db
    .update(ticketAssignments)
    .set({ engineerId: release.assignee ?? release.engineerId, active: release.holds })
    .where(
      and(
        eq(ticketAssignments.ticketNumber, release.ticketNumber),
        eq(ticketAssignments.engineerId, release.engineerId),
        eq(ticketAssignments.active, true),
      ),
    )
    .returning({ ticketNumber: ticketAssignments.ticketNumber });
  return rows.length > 0;
}
