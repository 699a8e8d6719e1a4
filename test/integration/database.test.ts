import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { findTicket } from '../../db/ticket-store';

/** What the database client sends: prepared statements, so a query is one pipelined round trip. */
let database: DatabaseHandle;

beforeAll(() => {
  // One connection: what the statements prepared on it are, the session view below sees.
  database = connectDatabase(inject('databaseUrl'), { max: 1 });
});

afterAll(() => database.close());

const preparedOnTickets = async (executor: Pick<DatabaseHandle['db'], 'execute'>) => {
  const rows = await executor.execute<{ statement: string }>(
    sql`select statement from pg_prepared_statements where statement like '%from "tickets"%'`,
  );
  return rows.map((row) => row.statement);
};

describe('database client', () => {
  it("runs drizzle's parameterised queries as prepared statements, parsed once per connection", async () => {
    expect(await findTicket(database.db, 'WO20000101-901')).toBeUndefined();
    expect(await findTicket(database.db, 'WO20000101-902')).toBeUndefined();
    const statements = await preparedOnTickets(database.db);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('where "tickets"."number" = $1');
  });

  it('does so inside transactions and savepoints too', async () => {
    const seen = await database.db.transaction(async (tx) => {
      await tx.execute(sql`select ${'a'}::text as in_transaction from "tickets" limit 0`);
      await tx.transaction((savepoint) =>
        savepoint.execute(sql`select ${'b'}::text as in_savepoint from "tickets" limit 0`),
      );
      return preparedOnTickets(tx);
    });
    expect(seen).toEqual(
      expect.arrayContaining([
        'select $1::text as in_transaction from "tickets" limit 0',
        'select $1::text as in_savepoint from "tickets" limit 0',
      ]),
    );
  });
});
