import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { TicketState } from '../domain/ticket';
import type { Database } from './client';
import { deliveries, deliveryAttempts, notifications, outboxMessages, type DeliveryKind } from './schema';
import { openTicketRow, type StoredTicketState } from './ticket-pii';

/** What sealed values in these tables are (the authenticated data of field-cipher.ts). */
export const RECIPIENT_PURPOSE = 'outbox_messages.recipient';
export const SECRET_PURPOSE = 'webhook_subscriptions.secret';

/**
 * The deliveries outbox: rows written with the change that caused them, claimed by delivery relays
 * (`FOR UPDATE SKIP LOCKED`, so relays on several machines never take the same row), sent, and
 * settled: delivered, failed for good, or back to pending with the time of the next attempt.
 */

/** Relays LISTEN here; a write that queues deliveries NOTIFYs it when it commits. */
export const DELIVERY_CHANNEL = 'aftercare_deliveries';

/** What a relay may take now: notification slots, and what each subscription already has in flight. */
export interface ClaimCapacity {
  readonly notificationSlots: number;
  readonly perSubscription: number;
  /** Sends in flight in this relay, by subscription id. */
  readonly busy: Readonly<Record<string, number>>;
  /** How long a claimed row stays with this relay before another may take it (a crashed relay's rows). */
  readonly leaseMs: number;
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly kind: DeliveryKind;
  readonly channel: string;
  readonly attempt: number;
  readonly createdAt: string;
  readonly subscriptionId: string | null;
  readonly ticket: TicketState | null;
  readonly notification: { kind: string; recipientRole: string; data: Record<string, unknown> } | null;
  readonly subscription: { url: string; secret: string; disabledReason: string | null } | null;
  readonly event: { seq: number; type: string; at: string; data: Record<string, unknown> } | null;
}

interface ClaimedRow extends Record<string, unknown> {
  id: string;
  kind: DeliveryKind;
  channel: string;
  attempts: number;
  created_at: string;
  subscription_id: string | null;
  state: StoredTicketState | null;
  pii: string | null;
  notification_kind: string | null;
  recipient_role: string | null;
  notification_data: Record<string, unknown> | null;
  url: string | null;
  secret: string | null;
  disabled_reason: string | null;
  event_seq: number | null;
  event_type: string | null;
  event_at: string | null;
  event_data: Record<string, unknown> | null;
}

const iso = (value: string | Date) => new Date(value).toISOString();

/**
 * Takes what is due, within the relay's capacity, in one statement: notifications and notices by
 * due time, and for each active subscription at most its free share of webhook deliveries. A paused
 * subscription's deliveries are not taken. Each row taken counts an attempt and is leased.
 */
export async function claimDeliveries(db: Database, capacity: ClaimCapacity): Promise<ClaimedDelivery[]> {
  const busy = JSON.stringify(capacity.busy);
  const rows = await db.execute<ClaimedRow>(sql`
    with notice_batch as (
      select id from deliveries
      where status = 'pending' and kind <> 'webhook' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${capacity.notificationSlots}
      for update skip locked
    ),
    webhook_batch as (
      select w.id from webhook_subscriptions s
      cross join lateral (
        select id from deliveries d
        where d.subscription_id = s.id and d.status = 'pending' and d.kind = 'webhook'
          and d.next_attempt_at <= now()
        order by d.next_attempt_at
        limit greatest(0, ${capacity.perSubscription}::int - coalesce((${busy}::jsonb ->> s.id)::int, 0))
        for update skip locked
      ) w
      where s.active
    ),
    claimed as (
      update deliveries
      set attempts = attempts + 1,
          next_attempt_at = now() + make_interval(secs => ${capacity.leaseMs / 1000})
      where id in (select id from notice_batch union all select id from webhook_batch)
      returning id, kind, channel, attempts, created_at, subscription_id, ticket_number, event_seq
    )
    select c.id, c.kind, c.channel, c.attempts, c.created_at, c.subscription_id, t.state, t.pii,
           n.kind as notification_kind, n.recipient_role, n.data as notification_data,
           s.url, s.secret, s.disabled_reason,
           e.seq as event_seq, e.type as event_type, e.at as event_at, e.data as event_data
    from claimed c
    left join tickets t on t.number = c.ticket_number
    left join notifications n on n.key = c.id
    left join webhook_subscriptions s on s.id = c.subscription_id
    left join ticket_events e on e.ticket_number = c.ticket_number and e.seq = c.event_seq`);
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    channel: row.channel,
    attempt: row.attempts,
    createdAt: iso(row.created_at),
    subscriptionId: row.subscription_id,
    ticket: row.state === null ? null : openTicketRow(db.$cipher, { state: row.state, pii: row.pii }),
    notification:
      row.notification_kind === null
        ? null
        : {
            kind: row.notification_kind,
            recipientRole: row.recipient_role ?? '',
            data: row.notification_data ?? {},
          },
    subscription:
      row.url === null
        ? null
        : {
            url: row.url,
            secret: row.secret === null ? '' : db.$cipher.open(row.secret, SECRET_PURPOSE),
            disabledReason: row.disabled_reason,
          },
    event:
      row.event_seq === null
        ? null
        : {
            seq: row.event_seq,
            type: row.event_type ?? '',
            at: iso(row.event_at ?? new Date(0)),
            data: row.event_data ?? {},
          },
  }));
}

/**
 * When the next delivery this relay could take falls due (null: none pending): the same lanes as
 * `claimDeliveries`, leaving out those at capacity, which a finished send wakes instead.
 */
export async function nextDeliveryDue(db: Database, capacity: ClaimCapacity): Promise<number | null> {
  const busy = JSON.stringify(capacity.busy);
  const [row] = await db.execute<{ due: string | null }>(sql`
    select least(
      (select min(next_attempt_at) from deliveries
       where status = 'pending' and kind <> 'webhook' and ${capacity.notificationSlots}::int > 0),
      (select min(w.due) from webhook_subscriptions s
       cross join lateral (
         select next_attempt_at as due from deliveries d
         where d.subscription_id = s.id and d.status = 'pending' and d.kind = 'webhook'
         order by d.next_attempt_at limit 1
       ) w
       where s.active
         and coalesce((${busy}::jsonb ->> s.id)::int, 0) < ${capacity.perSubscription}::int)
    ) as due`);
  return row?.due ? Date.parse(row.due) : null;
}

export interface AttemptOutcome {
  readonly attempt: number;
  readonly status: 'delivered' | 'pending' | 'failed';
  readonly statusCode?: number;
  readonly error?: string;
  readonly durationMs: number;
  /** When still pending: the next attempt's time. */
  readonly nextAttemptAtMs?: number;
}

export interface SubscriptionHealth {
  readonly id: string;
  readonly consecutiveFailures: number;
  readonly failingSince: string | null;
  readonly active: boolean;
}

/**
 * Records an attempt and settles the delivery in one statement; for a webhook, the subscription's
 * run of failures is counted (or reset by a success) and answered.
 */
export async function recordAttempt(
  db: Database,
  id: string,
  outcome: AttemptOutcome,
): Promise<SubscriptionHealth | undefined> {
  const ok = outcome.status === 'delivered';
  const nextAttemptAt =
    outcome.nextAttemptAtMs === undefined ? null : new Date(outcome.nextAttemptAtMs).toISOString();
  const [row] = await db.execute<{
    id: string;
    consecutive_failures: number;
    failing_since: string | null;
    active: boolean;
  }>(sql`
    with attempt as (
      insert into delivery_attempts (delivery_id, attempt, at, ok, status_code, error, duration_ms)
      values (${id}, ${outcome.attempt}, now(), ${ok}, ${outcome.statusCode ?? null}, ${outcome.error ?? null},
              ${Math.round(outcome.durationMs)})
      on conflict do nothing
    ),
    settled as (
      update deliveries
      set status = ${outcome.status},
          delivered_at = case when ${ok} then now() else delivered_at end,
          last_error = ${outcome.error ?? null},
          next_attempt_at = coalesce(${nextAttemptAt}::timestamptz, next_attempt_at)
      where id = ${id} and status = 'pending'
      returning kind, subscription_id
    )
    update webhook_subscriptions s
    set consecutive_failures = case when ${ok} then 0 else s.consecutive_failures + 1 end,
        failing_since = case when ${ok} then null else coalesce(s.failing_since, now()) end
    from settled
    where settled.kind = 'webhook' and s.id = settled.subscription_id
      -- A success on a healthy subscription changes nothing: no new row version per delivery.
      and (not ${ok} or s.consecutive_failures <> 0 or s.failing_since is not null)
    returning s.id, s.consecutive_failures, s.failing_since, s.active`);
  return (
    row && {
      id: row.id,
      consecutiveFailures: row.consecutive_failures,
      failingSince: row.failing_since === null ? null : iso(row.failing_since),
      active: row.active,
    }
  );
}

/**
 * Pauses a subscription whose receiver keeps failing and queues one notice to managers; a
 * subscription already paused is left as it is (and no second notice is queued).
 */
export async function pauseFailingSubscription(db: Database, id: string, reason: string): Promise<boolean> {
  const rows = await db.execute<{ id: string }>(sql`
    with paused as (
      update webhook_subscriptions
      set active = false, disabled_at = now(), disabled_reason = ${reason}, updated_at = now()
      where id = ${id} and active
      returning id, disabled_at
    ),
    notice as (
      insert into deliveries (id, ticket_number, version, kind, channel, subscription_id)
      select 'paused:' || id || ':' || (extract(epoch from disabled_at) * 1000)::bigint, null, 0, 'notice',
             'internal', id
      from paused
      on conflict do nothing
      returning id
    )
    select id, pg_notify(${DELIVERY_CHANNEL}, '') from notice`);
  return rows.length > 0;
}

/** Wakes the relays (a subscription resumed: its held deliveries may go out). */
export async function wakeRelays(db: Database): Promise<void> {
  await db.execute(sql`select pg_notify(${DELIVERY_CHANNEL}, '')`);
}

export interface OutboxMessage {
  readonly deliveryId: string;
  readonly channel: string;
  readonly recipient: string;
  readonly language: string;
  readonly subject: string;
  readonly body: string;
}

/** The development provider's send: the message lands in the outbox (recipient sealed), once per delivery. */
export async function writeOutbox(db: Database, message: OutboxMessage): Promise<void> {
  await db
    .insert(outboxMessages)
    .values({
      ...message,
      recipient: db.$cipher.seal(message.recipient, RECIPIENT_PURPOSE),
      sentAt: new Date().toISOString(),
    })
    .onConflictDoNothing();
}

/** Where a page of a ticket's notifications ended: the last one's time and delivery id. */
export interface NotificationCursor {
  readonly at: string;
  readonly id: string;
}

/**
 * A ticket's notifications as sent (or still being sent), oldest first (by time, then delivery id):
 * those after `after`, at most `limit` (all when not given).
 */
export async function listTicketNotifications(
  db: Database,
  ticketNumber: string,
  page: { readonly after?: NotificationCursor; readonly limit?: number } = {},
) {
  const query = db
    .select({
      id: deliveries.id,
      at: notifications.at,
      kind: notifications.kind,
      recipientRole: notifications.recipientRole,
      // The channel it went by: a named person's own (SMS, e-mail) when their staff record says so.
      channel: sql<string>`coalesce(${outboxMessages.channel}, ${deliveries.channel})`,
      status: deliveries.status,
      attempts: deliveries.attempts,
      createdAt: deliveries.createdAt,
      deliveredAt: deliveries.deliveredAt,
      recipient: outboxMessages.recipient,
      language: outboxMessages.language,
      subject: outboxMessages.subject,
      body: outboxMessages.body,
    })
    .from(deliveries)
    .innerJoin(notifications, eq(notifications.key, deliveries.id))
    .leftJoin(outboxMessages, eq(outboxMessages.deliveryId, deliveries.id))
    .where(
      and(
        eq(deliveries.ticketNumber, ticketNumber),
        eq(deliveries.kind, 'notification'),
        page.after &&
          sql`(${notifications.at}, ${deliveries.id}) > (${page.after.at}::timestamptz, ${page.after.id})`,
      ),
    )
    .orderBy(asc(notifications.at), asc(deliveries.id))
    .$dynamic();
  const rows = await (page.limit === undefined ? query : query.limit(page.limit));
  return rows.map((row) => ({
    ...row,
    recipient: row.recipient === null ? null : db.$cipher.open(row.recipient, RECIPIENT_PURPOSE),
  }));
}

/** A subscription's deliveries, newest first, each with its attempts. */
export async function listSubscriptionDeliveries(db: Database, subscriptionId: string, limit: number) {
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.subscriptionId, subscriptionId), eq(deliveries.kind, 'webhook')))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit);
  const attempts = rows.length
    ? await db
        .select()
        .from(deliveryAttempts)
        .where(sql`${deliveryAttempts.deliveryId} in ${rows.map((row) => row.id)}`)
        .orderBy(asc(deliveryAttempts.attempt))
    : [];
  return rows.map((row) => ({
    ...row,
    // Every webhook delivery is of a ticket's event.
    ticketNumber: row.ticketNumber ?? '',
    attemptLog: attempts.filter((attempt) => attempt.deliveryId === row.id),
  }));
}
