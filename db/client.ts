import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import type { EncryptionKey } from '../temporal/codec';
import { FieldCipher } from './field-cipher';
import * as schema from './schema';

/** `$cipher` seals personal data and secrets before they are written, and opens them when read. */
export type Database = PostgresJsDatabase<typeof schema> & {
  readonly $client: Sql;
  readonly $cipher: FieldCipher;
};

/** What `db.transaction(…)` hands its callback: a store function may run inside one or on its own. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

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

export interface ConnectOptions {
  readonly max?: number;
  /** PAYLOAD_ENCRYPTION_KEYS: the first seals, every one opens. */
  readonly payloadKeys: readonly EncryptionKey[];
  /**
   * Commits that do not wait for the WAL flush (`synchronous_commit=off`): for writes whose loss in
   * a database crash only repeats work (the delivery relay's leases and attempts: delivery is at
   * least once). Ticket writes always wait.
   */
  readonly asyncCommit?: boolean;
}

export function connectDatabase(url: string, options: ConnectOptions): DatabaseHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => undefined,
    ...(options.asyncCommit && { connection: { synchronous_commit: 'off' } }),
  });
  const db = Object.assign(drizzle(preparing(sql), { schema }), {
    $cipher: new FieldCipher(options.payloadKeys),
  });
  return { db, close: () => sql.end({ timeout: 5 }) };
}
