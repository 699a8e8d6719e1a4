import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { EncryptionKey } from '../temporal/codec';
import { connectDatabase } from './client';
import { sealExistingRows, type SealingCounts } from './seal-existing';

export const MIGRATIONS_FOLDER = path.join(__dirname, 'migrations');

/** Any constant shared by every Aftercare process: the advisory lock that serialises migrations. */
const MIGRATION_LOCK_ID = 0x4166_7465;

/**
 * Applies the committed drizzle-kit migrations, then seals what older rows hold in clear (and
 * re-seals under the active key; see seal-existing.ts). One connection holds an advisory lock
 * meanwhile, so API instances starting together migrate once and the others wait.
 */
export async function applyMigrations(
  databaseUrl: string,
  payloadKeys: readonly EncryptionKey[],
): Promise<SealingCounts> {
  const { db, close } = connectDatabase(databaseUrl, { max: 1, payloadKeys });
  try {
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    const sealed = await sealExistingRows(db);
    await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`);
    return sealed;
  } finally {
    await close();
  }
}
