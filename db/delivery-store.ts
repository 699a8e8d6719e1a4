import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Database } from './client';
import {
  deliveries,
  deliveryAttempts,
  notifications,
  outboxMessages,
  ticketEvents,
  tickets,
  webhookSubscriptions,
} from './schema';

/** Deliveries: what the delivery workflow of a ticket change sends, and every attempt at it. */
/** A delivery with what it needs to be sent: the ticket, and its notification or event and subscription. */
export async function loadDelivery(db: Database, id: string) {
  const [row] = await db
    .select({
      delivery: deliveries,
      state: tickets.state,
      notification: notifications,
      subscription: webhookSubscriptions,
      event: ticketEvents,
    })
    .from(deliveries)
    .innerJoin(tickets, eq(tickets.number, deliveries.ticketNumber))
    .leftJoin(notifications, eq(notifications.key, deliveries.id))
    .leftJoin(webhookSubscriptions, eq(webhookSubscriptions.id, deliveries.subscriptionId))
    .leftJoin(
      ticketEvents,
      and(eq(ticketEvents.ticketNumber, deliveries.ticketNumber), eq(ticketEvents.seq, deliveries.eventSeq)),
    )
    .where(eq(deliveries.id, id));
  return row;
}

/** Counts the attempt and returns its number. */
export async function beginAttempt(db: Database, id: string): Promise<number> {
  const [row] = await db
    .update(deliveries)
    .set({ attempts: sql`${deliveries.attempts} + 1` })
    .where(eq(deliveries.id, id))
    .returning({ attempts: deliveries.attempts });
  return row?.attempts ?? 0;
}

export interface AttemptOutcome {
  readonly ok: boolean;
  readonly statusCode?: number;
  readonly error?: string;
  readonly durationMs: number;
}

export async function recordAttempt(db: Database, id: string, attempt: number, outcome: AttemptOutcome) {
  const at = new Date().toISOString();
  await db.transaction(async (tx) => {
    await tx
      .insert(deliveryAttempts)
      .values({
        deliveryId: id,
        attempt,
        at,
        ok: outcome.ok,
        statusCode: outcome.statusCode ?? null,
        error: outcome.error ?? null,
        durationMs: Math.round(outcome.durationMs),
      })
      .onConflictDoNothing();
    await tx
      .update(deliveries)
      .set(
        outcome.ok
          ? { status: 'delivered', deliveredAt: at, lastError: null }
          : { lastError: outcome.error ?? `HTTP ${outcome.statusCode}` },
      )
      .where(eq(deliveries.id, id));
  });
}

export async function markDeliveryFailed(db: Database, id: string, error: string): Promise<void> {
  await db
    .update(deliveries)
    .set({ status: 'failed', lastError: error })
    .where(and(eq(deliveries.id, id), eq(deliveries.status, 'pending')));
}

export interface OutboxMessage {
  readonly deliveryId: string;
  readonly channel: string;
  readonly recipient: string;
  readonly language: string;
  readonly subject: string;
  readonly body: string;
}

/** The development provider's send: the message lands in the outbox, once per delivery. */
export async function writeOutbox(db: Database, message: OutboxMessage): Promise<void> {
  await db
    .insert(outboxMessages)
    .values({ ...message, sentAt: new Date().toISOString() })
    .onConflictDoNothing();
}

/** A ticket's notifications as sent (or still being sent), oldest first. */
export async function listTicketNotifications(db: Database, ticketNumber: string) {
  return db
    .select({
      id: deliveries.id,
      kind: notifications.kind,
      recipientRole: notifications.recipientRole,
      channel: deliveries.channel,
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
    .where(and(eq(deliveries.ticketNumber, ticketNumber), eq(deliveries.kind, 'notification')))
    .orderBy(asc(notifications.at), asc(deliveries.id));
}

/** A subscription's deliveries, newest first, each with its attempts. */
export async function listSubscriptionDeliveries(db: Database, subscriptionId: string, limit: number) {
  const rows = await db
    .select()
    .from(deliveries)
    .where(eq(deliveries.subscriptionId, subscriptionId))
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
    attemptLog: attempts.filter((attempt) => attempt.deliveryId === row.id),
  }));
}
