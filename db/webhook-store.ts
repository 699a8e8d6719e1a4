import { and, count, eq, ne, sql } from 'drizzle-orm';
import type { Database, Transaction } from './client';
import { SECRET_PURPOSE, wakeRelays } from './delivery-store';
import { webhookSubscriptions } from './schema';

/**
 * Webhook subscriptions, with the cap on active ones kept under concurrent writes. Their secrets are
 * stored sealed (the relay opens them to sign): a row's `secret` is never the secret in clear.
 */
export type Subscription = Omit<typeof webhookSubscriptions.$inferSelect, 'secret'>;

export interface SubscriptionFields {
  readonly url?: string;
  readonly eventTypes?: string[];
  readonly secret?: string;
  readonly active?: boolean;
}

/** Answered instead of a row when one more active subscription would pass the cap. */
export const OVER_CAP = Symbol('over the cap');

/** One writer at a time counts and writes active subscriptions (a transaction-scoped advisory lock). */
const CAP_LOCK = sql`select pg_advisory_xact_lock(hashtext('aftercare webhook subscription cap'))`;

function withoutSecret({ secret: _sealed, ...row }: typeof webhookSubscriptions.$inferSelect): Subscription {
  return row;
}

async function activeOthers(tx: Transaction, exceptId: string): Promise<number> {
  const [row] = await tx
    .select({ active: count() })
    .from(webhookSubscriptions)
    .where(and(eq(webhookSubscriptions.active, true), ne(webhookSubscriptions.id, exceptId)));
  return row?.active ?? 0;
}

export async function createSubscription(
  db: Database,
  id: string,
  fields: Required<SubscriptionFields>,
  maxActive: number,
): Promise<Subscription | typeof OVER_CAP> {
  return db.transaction(async (tx) => {
    await tx.execute(CAP_LOCK);
    if (fields.active && (await activeOthers(tx, id)) >= maxActive) return OVER_CAP;
    const [row] = await tx
      .insert(webhookSubscriptions)
      .values({ id, ...fields, secret: db.$cipher.seal(fields.secret, SECRET_PURPOSE) })
      .returning();
    if (!row) throw new Error('the subscription was not written');
    return withoutSecret(row);
  });
}

/**
 * Changes a subscription. Setting a paused one active again clears its run of failures and its
 * automatic pause, and wakes the relays: deliveries it held go out (those still within the retry window).
 */
export async function updateSubscription(
  db: Database,
  id: string,
  fields: SubscriptionFields,
  maxActive: number,
): Promise<Subscription | typeof OVER_CAP | undefined> {
  const row = await db.transaction(async (tx) => {
    await tx.execute(CAP_LOCK);
    if (fields.active && (await activeOthers(tx, id)) >= maxActive) return OVER_CAP;
    const [updated] = await tx
      .update(webhookSubscriptions)
      .set({
        ...fields,
        ...(fields.secret !== undefined && { secret: db.$cipher.seal(fields.secret, SECRET_PURPOSE) }),
        ...(fields.active && {
          // Only a paused subscription starts afresh: re-sending `active: true` keeps a failing run.
          consecutiveFailures: sql`case when ${webhookSubscriptions.active} then ${webhookSubscriptions.consecutiveFailures} else 0 end`,
          failingSince: sql`case when ${webhookSubscriptions.active} then ${webhookSubscriptions.failingSince} end`,
          disabledAt: sql`case when ${webhookSubscriptions.active} then ${webhookSubscriptions.disabledAt} end`,
          disabledReason: sql`case when ${webhookSubscriptions.active} then ${webhookSubscriptions.disabledReason} end`,
        }),
        updatedAt: new Date().toISOString(),
      })
      .where(eq(webhookSubscriptions.id, id))
      .returning();
    return updated && withoutSecret(updated);
  });
  if (row && row !== OVER_CAP && fields.active) await wakeRelays(db);
  return row;
}
