import type { Database } from './client';

const preparedByDatabase = new WeakMap<Database, Map<string, unknown>>();

/**
 * A query drizzle builds once per database handle and runs many times with new values: built with
 * `sql.placeholder` and `.prepare(name)` (the name `build` is given), its SQL text and parameter list
 * are made on first use instead of on every call, where building the text of a hot query cost about
 * as much CPU as the driver sending it. `name` is unique per query in the process.
 */
export function preparedQuery<T>(db: Database, name: string, build: (db: Database, name: string) => T): T {
  let prepared = preparedByDatabase.get(db);
  if (!prepared) {
    prepared = new Map();
    preparedByDatabase.set(db, prepared);
  }
  if (!prepared.has(name)) prepared.set(name, build(db, name));
  return prepared.get(name) as T;
}
