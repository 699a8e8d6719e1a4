import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { connectDatabase } from './client';

export const MIGRATIONS_FOLDER = path.join(__dirname, 'migrations');

/** Any constant shared by every Aftercare process: the advisory lock that serialises migrations. */
const MIGRATION_LOCK_ID = 0x4166_7465;

/**
 * Applies the committed drizzle-kit migrations. One connection holds an advisory lock meanwhile, so
 * API instances starting together migrate once and the others wait.
 */
export async function applyMigrations(databaseUrl: string): Promise<void> {
  const { db, close } = connectDatabase(databaseUrl, { max: 1 });
  try {
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`);
  } finally {
    await close();
  }
}
