import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema> & { readonly $client: Sql };

export interface DatabaseHandle {
  readonly db: Database;
  readonly close: () => Promise<void>;
}

type Callback = (sql: Sql) => unknown;

/**
 * The client drizzle is given: every query it sends is a prepared statement. drizzle's postgres.js
 * session runs every query but those built with `.prepare(name)` as `unsafe(query, params, { prepare:
 * false })`, whatever the client's own setting (drizzle-team/drizzle-orm#6096), and postgres.js sends
 * an unprepared query with parameters in two round trips (Parse + Describe, then Bind + Execute)
 * that stop the connection's pipeline meanwhile. Prepared, the statement is parsed
 * once per connection and each later run is one round trip that pipelines with its neighbours. The
 * same holds inside transactions and savepoints, whose clients are wrapped alike.
 */
function preparing(sql: Sql): Sql {
  const wrapLast = (args: unknown[]) => {
    const callback = args.at(-1) as Callback;
    return [...args.slice(0, -1), (inner: Sql) => callback(preparing(inner))];
  };
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], options?: object) =>
          target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (property === 'begin' || property === 'savepoint') {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => method.apply(target, wrapLast(args));
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

export function connectDatabase(url: string, options: { max?: number } = {}): DatabaseHandle {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => undefined });
  return { db: drizzle(preparing(sql), { schema }), close: () => sql.end({ timeout: 5 }) };
}
