import { sql } from 'drizzle-orm';
import type { TicketState } from '../domain/ticket';
import type { Database } from './client';
import { RECIPIENT_PURPOSE, SECRET_PURPOSE } from './delivery-store';
import { SEALED_PREFIX } from './field-cipher';
import { joinPersonalData, PII_PURPOSE, sealPersonalData, type StoredTicketState } from './ticket-pii';

const BATCH = 500;

export interface SealingCounts {
  readonly tickets: number;
  readonly recipients: number;
  readonly secrets: number;
}

/**
 * Run after the migrations (under their lock): seals what rows written before 0006 hold in clear —
 * a ticket's personal data in `state`, outbox recipients, webhook secrets — and re-seals under the
 * active key what an older key sealed, so a retired key can be dropped from PAYLOAD_ENCRYPTION_KEYS
 * once every process has started with the new one in front. In batches; each row is written only if
 * nothing changed it meanwhile. Answers how many rows it sealed.
 */
export async function sealExistingRows(db: Database): Promise<SealingCounts> {
  const active = db.$cipher.activePrefix;
  let tickets = 0;
  for (;;) {
    const rows = await db.execute<{
      number: string;
      version: number;
      state: StoredTicketState;
      pii: string | null;
    }>(sql`
      select number, version, state, pii from tickets
      where (pii is null and state->'intake'->'customer' ? 'name')
         or (pii is not null and left(pii, ${active.length}) <> ${active})
      limit ${BATCH}`);
    if (rows.length === 0) break;
    for (const row of rows) {
      const state: TicketState =
        row.pii === null
          ? joinPersonalData(row.state, null)
          : joinPersonalData(row.state, db.$cipher.openJson(row.pii, PII_PURPOSE));
      const { stored, pii } = sealPersonalData(db.$cipher, state);
      await db.execute(sql`
        update tickets set state = ${JSON.stringify(stored)}::jsonb, pii = ${pii}
        where number = ${row.number} and version = ${row.version}
          and pii is not distinct from ${row.pii}`);
    }
    tickets += rows.length;
  }
  const recipients = await resealColumn(db, 'outbox_messages', 'delivery_id', 'recipient', RECIPIENT_PURPOSE);
  const secrets = await resealColumn(db, 'webhook_subscriptions', 'id', 'secret', SECRET_PURPOSE);
  return { tickets, recipients, secrets };
}

/** Seals a text column's clear values and re-seals those an older key sealed. */
async function resealColumn(db: Database, table: string, key: string, column: string, purpose: string) {
  const active = db.$cipher.activePrefix;
  const [t, k, c] = [sql.identifier(table), sql.identifier(key), sql.identifier(column)];
  let count = 0;
  for (;;) {
    const rows = await db.execute<{ id: string; value: string }>(sql`
      select ${k} as id, ${c} as value from ${t} where left(${c}, ${active.length}) <> ${active}
      limit ${BATCH}`);
    if (rows.length === 0) return count;
    for (const row of rows) {
      const plain = row.value.startsWith(SEALED_PREFIX) ? db.$cipher.open(row.value, purpose) : row.value;
      await db.execute(sql`
        update ${t} set ${c} = ${db.$cipher.seal(plain, purpose)} where ${k} = ${row.id} and ${c} = ${row.value}`);
    }
    count += rows.length;
  }
}
