import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { superiorRefusal, type StaffContact, type StaffInput } from '../domain/staff';
import type { Role } from '../domain/ticket';
import type { Database } from './client';
import { staff } from './schema';

/** What sealed values in the staff table are (the authenticated data of field-cipher.ts). */
const PHONE_PURPOSE = 'staff.phone';
const EMAIL_PURPOSE = 'staff.email';
/** How far up a superior chain the relay looks for the level's role. */
const MAX_CHAIN = 10;

export interface StaffRecord extends StaffContact {
  readonly name: string;
  readonly superiorId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A superior that cannot be (`domain/staff.ts` `superiorRefusal`): the route answers 422. */
export class StaffRefusedError extends Error {
  override name = 'StaffRefusedError';
}

type Row = typeof staff.$inferSelect;

function open(db: Database, row: Row): StaffRecord {
  return {
    id: row.id,
    role: row.role,
    name: row.name,
    phone: row.phone === null ? null : db.$cipher.open(row.phone, PHONE_PURPOSE),
    email: row.email === null ? null : db.$cipher.open(row.email, EMAIL_PURPOSE),
    notifyBy: row.notifyBy,
    superiorId: row.superiorId,
    active: row.active,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

/** The ids above `id` on its superior chain, nearest first (cycle-safe, at most MAX_CHAIN). */
async function chainAbove(db: Pick<Database, 'execute'>, id: string): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    with recursive chain(id, depth) as (
      select superior_id, 1 from staff where id = ${id} and superior_id is not null
      union all
      select s.superior_id, c.depth + 1 from chain c join staff s on s.id = c.id
      where s.superior_id is not null and c.depth < ${MAX_CHAIN}
    )
    select id from chain order by depth`);
  return rows.map((row) => row.id);
}

/**
 * Creates or replaces a staff member; returns whether it was new. The superior must be on file and
 * not below this person; the check and the write share a transaction that locks the directory
 * against a concurrent change of superiors.
 */
export async function upsertStaff(db: Database, id: string, input: StaffInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`lock table staff in share row exclusive mode`);
    if (input.superiorId !== undefined) {
      const [superior] = await tx.select({ id: staff.id }).from(staff).where(eq(staff.id, input.superiorId));
      const refusal = superiorRefusal(
        id,
        input.superiorId,
        superior !== undefined,
        superior ? [input.superiorId, ...(await chainAbove(tx, input.superiorId))] : [],
      );
      if (refusal) throw new StaffRefusedError(refusal);
    }
    const values = {
      id,
      role: input.role,
      name: input.name,
      phone: input.phone === undefined ? null : db.$cipher.seal(input.phone, PHONE_PURPOSE),
      email: input.email === undefined ? null : db.$cipher.seal(input.email, EMAIL_PURPOSE),
      notifyBy: input.notifyBy,
      superiorId: input.superiorId ?? null,
      active: input.active,
    };
    const [row] = await tx
      .insert(staff)
      .values(values)
      .onConflictDoUpdate({ target: staff.id, set: { ...values, updatedAt: sql`now()` } })
      .returning({ created: sql<boolean>`(xmax = 0)` });
    return row?.created ?? false;
  });
}

export async function findStaff(db: Database, id: string): Promise<StaffRecord | undefined> {
  const [row] = await db.select().from(staff).where(eq(staff.id, id));
  return row && open(db, row);
}

export async function listStaff(
  db: Database,
  filter: { readonly role?: Role; readonly active?: boolean } = {},
): Promise<StaffRecord[]> {
  const conditions: SQL[] = [];
  if (filter.role !== undefined) conditions.push(eq(staff.role, filter.role));
  if (filter.active !== undefined) conditions.push(eq(staff.active, filter.active));
  const rows = await db
    .select()
    .from(staff)
    .where(and(...conditions))
    .orderBy(asc(staff.id));
  return rows.map((row) => open(db, row));
}

/** How to reach a named person now: undefined when not on file or no longer active. */
export async function staffContact(db: Database, id: string): Promise<StaffContact | undefined> {
  const record = await findStaff(db, id);
  return record?.active ? record : undefined;
}

/**
 * The nearest active superior of `id` who has `role` (an escalation's level: supervisor, manager,
 * director): the responsible person's superior at that level, or undefined when the chain has none.
 */
export async function superiorWithRole(
  db: Database,
  id: string,
  role: Role,
): Promise<StaffContact | undefined> {
  for (const superiorId of await chainAbove(db, id)) {
    const superior = await staffContact(db, superiorId);
    if (superior?.role === role) return superior;
  }
  return undefined;
}
