import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './client';

/** A report that PostgreSQL cancelled because it ran past its time budget. */
export class ReportTimeoutError extends Error {
  override name = 'ReportTimeoutError';
  constructor(timeoutMs: number, options?: ErrorOptions) {
    super(`the report ran past its ${timeoutMs} ms budget`, options);
  }
}

/** PostgreSQL's query_canceled, which `statement_timeout` raises; drizzle wraps it as the cause. */
function isStatementTimeout(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === '57014') return true;
  }
  return false;
}

/** Runs one of a report's queries within what is left of its time budget. */
export type ReportQuery = <T>(query: SQL) => Promise<T[]>;

/**
 * Builds a report on one connection of the pool, in one read-only snapshot (its figures agree with
 * each other), its queries one after another, within `timeoutMs` overall: before each query
 * `statement_timeout` is set to what is left of the budget, so PostgreSQL itself stops a report
 * that runs long (`ReportTimeoutError`) instead of it holding the connection.
 */
export async function runReport<R>(
  db: Database,
  timeoutMs: number,
  build: (rows: ReportQuery) => Promise<R>,
): Promise<R> {
  const deadline = performance.now() + timeoutMs;
  try {
    return await db.transaction(
      (tx) =>
        build(async <T>(query: SQL) => {
          const leftMs = Math.ceil(deadline - performance.now());
          if (leftMs <= 0) throw new ReportTimeoutError(timeoutMs);
          await tx.execute(sql`select set_config('statement_timeout', ${String(leftMs)}, true)`);
          return (await tx.execute(query)) as unknown as T[];
        }),
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  } catch (error) {
    if (error instanceof ReportTimeoutError || !isStatementTimeout(error)) throw error;
    throw new ReportTimeoutError(timeoutMs, { cause: error });
  }
}
