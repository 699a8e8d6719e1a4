import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { findTicket, listTicketEscalations, saveTicketChange } from '../../db/ticket-store';
import { openTicket, recordOpening } from '../../domain/lifecycle';
import { emptyChange, type TicketChange, type TicketState } from '../../domain/ticket';
import { connectRelayDatabase } from '../../relay/relay';
import {
  AGENT,
  intake,
  policy,
  TEST_CUSTOMER_ID,
  TEST_PAYLOAD_KEYS,
  uniqueTicketNumber,
} from '../support/fixtures';

/**
 * What the database client sends (prepared statements, so a query is one pipelined round trip) and
 * the one-statement write of a ticket change.
 */
let database: DatabaseHandle;

beforeAll(() => {
  // One connection: what the statements prepared on it are, the session view below sees.
  database = connectDatabase(inject('databaseUrl'), { max: 1, payloadKeys: TEST_PAYLOAD_KEYS });
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

describe('saveTicketChange', () => {
  const opened = (): TicketState =>
    openTicket({
      number: uniqueTicketNumber(),
      intake: intake({ priority: 'critical' }),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: Date.parse('2099-12-31T02:00:00Z'),
      policy: policy(),
    });
  /** The next version with an escalation opened and, in the same change, superseded. */
  const climbed = (state: TicketState): { state: TicketState; change: TicketChange } => {
    const next = { ...structuredClone(state), version: state.version + 1 };
    const change = emptyChange();
    const base = {
      ticketNumber: state.number,
      clock: 'firstResponse' as const,
      reason: 'first_response_missed',
      missedDeadline: '2099-12-31T02:10:00.000Z',
      firedAt: '2099-12-31T02:10:00.500Z',
    };
    change.escalations.push(
      { ...base, id: `${state.number}:firstResponse:1`, level: 1 },
      { ...base, id: `${state.number}:firstResponse:1:L2`, level: 2 },
    );
    change.escalationUpdates.push({
      id: `${state.number}:firstResponse:1`,
      supersededBy: `${state.number}:firstResponse:1:L2`,
    });
    return { state: next, change };
  };

  it('writes the row, timeline and deliveries at once, and a retry writes nothing twice', async () => {
    const state = opened();
    const opening = recordOpening(state);
    const first = await saveTicketChange(database.db, structuredClone(state), opening);
    const retry = await saveTicketChange(database.db, structuredClone(state), opening);
    expect(first).toEqual(opening.notifications.map((notification) => notification.key));
    expect(first.length).toBeGreaterThan(0);
    expect(retry).toEqual(first);
    const [counts] = await database.db.execute<{
      events: number;
      notifications: number;
      deliveries: number;
    }>(sql`
      select (select count(*) from ticket_events where ticket_number = ${state.number})::int as events,
             (select count(*) from notifications where ticket_number = ${state.number})::int as notifications,
             (select count(*) from deliveries where ticket_number = ${state.number})::int as deliveries`);
    expect(counts).toEqual({
      events: opening.events.length,
      notifications: opening.notifications.length,
      deliveries: first.length,
    });
    expect(await findTicket(database.db, state.number)).toEqual(state);
  });

  it('folds an update of an escalation the same change opens into its row', async () => {
    const state = opened();
    await saveTicketChange(database.db, structuredClone(state), recordOpening(state));
    const { state: next, change } = climbed(state);
    const escalationRows = async () =>
      (await listTicketEscalations(database.db, state.number))
        // Both fired at the same instant: the listing (by firing time) may give them either way round.
        .sort((left, right) => left.id.localeCompare(right.id))
        .map((row) => [row.id, row.level, row.supersededBy]);
    const expected = [
      [`${state.number}:firstResponse:1`, 1, `${state.number}:firstResponse:1:L2`],
      [`${state.number}:firstResponse:1:L2`, 2, null],
    ];
    await saveTicketChange(database.db, next, change);
    expect(await escalationRows()).toEqual(expected);
    await saveTicketChange(database.db, next, change);
    expect(await escalationRows()).toEqual(expected);
  });

  it('never rolls a row back to an older version written late', async () => {
    const state = opened();
    await saveTicketChange(database.db, structuredClone(state), recordOpening(state));
    const { state: next, change } = climbed(state);
    await saveTicketChange(database.db, next, change);
    await saveTicketChange(database.db, structuredClone(state), recordOpening(state));
    expect((await findTicket(database.db, state.number))?.version).toBe(next.version);
  });

  it('the last write of a version wins: the workflow execution the server kept writes after one it did not', async () => {
    const state = opened();
    await saveTicketChange(database.db, structuredClone(state), recordOpening(state));
    const { state: next, change } = climbed(state);
    const note = (text: string): TicketChange => ({
      ...structuredClone(change),
      events: [{ seq: 2, type: 'note', at: '2099-12-31T02:10:00.500Z', actor: AGENT, data: { text } }],
    });
    // A discarded execution applied another Update first and wrote version 2 with it.
    await saveTicketChange(database.db, { ...next, status: 'acknowledged' }, note('discarded'));
    await saveTicketChange(database.db, next, note('kept'));
    expect((await findTicket(database.db, state.number))?.status).toBe(next.status);
    const [row] = await database.db.execute<{ text: string }>(sql`
      select data->>'text' as text from ticket_events where ticket_number = ${state.number} and seq = 2`);
    expect(row).toEqual({ text: 'kept' });
  });
});

describe('commit durability per role', () => {
  const showSynchronousCommit = async (handle: DatabaseHandle) => {
    try {
      const rows = await handle.db.execute<{ synchronous_commit: string }>(sql`show synchronous_commit`);
      return rows[0]?.synchronous_commit;
    } finally {
      await handle.close();
    }
  };

  it('ticket writes wait for the WAL flush; the relay, whose sends are at least once, does not', async () => {
    const url = inject('databaseUrl');
    expect(
      await showSynchronousCommit(connectDatabase(url, { max: 1, payloadKeys: TEST_PAYLOAD_KEYS })),
    ).toBe('on');
    expect(await showSynchronousCommit(connectRelayDatabase(url, TEST_PAYLOAD_KEYS))).toBe('off');
  });
});
