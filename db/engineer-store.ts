import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { chooseEngineer, type DispatchNeeds, type EngineerLoad } from '../domain/dispatch';
import type { Database } from './client';
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
  db: Database,
  engineerId: string,
  ticketNumber: string,
): Promise<EngineerLoad | undefined> {
  const [row] = await db
    .select({ active: engineers.active, capacity: engineers.capacity, openLoad: openLoad(ticketNumber) })
    .from(engineers)
    .where(eq(engineers.id, engineerId));
  return row;
}

/** Serialises dispatch, so two tickets cannot both take an engineer's last free place. */
const DISPATCH_LOCK = 0x0d15_9a7c;

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
