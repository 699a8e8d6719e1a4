import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Database } from '../db/client';
import { beginAttempt, loadDelivery, markDeliveryFailed, recordAttempt } from '../db/delivery-store';
import { reserveEngineer } from '../db/engineer-store';
import { saveTicketChange } from '../db/ticket-store';
import type { DispatchNeeds } from '../domain/dispatch';
import { renderNotification } from '../domain/templates';
import type { NotificationRecord, TicketChange, TicketState } from '../domain/ticket';
import { developmentProvider, type NotificationProvider } from '../notify/providers';
import { postWebhook } from '../notify/webhook';
import type { deliveryWorkflow } from '../workflows/delivery';

export interface ActivityDependencies {
  readonly db: Database;
  /** Sends SMS, e-mail and staff notices; the development provider when not given. */
  readonly provider?: NotificationProvider;
}

export interface DeliverInput {
  readonly deliveryId: string;
  /** The business time zone local times in messages are written in. */
  readonly timeZone: string;
}

/** Who a notification goes to on its channel: the customer's phone or address, or the staff role. */
function recipientOf(notification: NotificationRecord, state: TicketState): string {
  if (notification.recipientRole !== 'customer') {
    const engineerId = notification.data.engineerId;
    return notification.recipientRole === 'engineer' && typeof engineerId === 'string'
      ? `engineer:${engineerId}`
      : `role:${notification.recipientRole}`;
  }
  const customer = state.intake.customer;
  const address = notification.channel === 'email' ? customer.email : customer.phone;
  if (!address) throw ApplicationFailure.nonRetryable(`the customer has no ${notification.channel} address`);
  return address;
}

export interface RecordTicketChangeInput {
  readonly ticket: TicketState;
  readonly change: TicketChange;
  /** The business time zone the change's messages are written in. */
  readonly timeZone: string;
}

export interface FindEngineerInput {
  readonly ticketNumber: string;
  readonly attempt: number;
  readonly needs: DispatchNeeds;
  readonly exclude: readonly string[];
}

/** The ticket workflow's I/O. Every activity is idempotent: a retry writes nothing twice. */
export function createActivities({ db, provider = developmentProvider(db) }: ActivityDependencies) {
  async function send(deliveryId: string, timeZone: string): Promise<number | undefined> {
    const found = await loadDelivery(db, deliveryId);
    if (!found) throw ApplicationFailure.nonRetryable(`no delivery ${deliveryId}`);
    const { delivery, state, notification, subscription, event } = found;
    if (delivery.kind === 'webhook') {
      if (!subscription || !event)
        throw ApplicationFailure.nonRetryable(`delivery ${deliveryId} lost its event`);
      const body = JSON.stringify({
        deliveryId,
        type: event.type,
        ticket: { number: state.number, status: state.status, priority: state.intake.priority },
        event: { seq: event.seq, type: event.type, at: new Date(event.at).toISOString(), data: event.data },
      });
      const url = subscription.url;
      return postWebhook({ url, secret: subscription.secret, deliveryId, eventType: event.type, body });
    }
    if (!notification) throw ApplicationFailure.nonRetryable(`delivery ${deliveryId} lost its notification`);
    const language = state.intake.language ?? 'zh-CN';
    const message = renderNotification(notification as NotificationRecord, language, timeZone);
    await provider.send({
      deliveryId,
      channel: notification.channel,
      recipient: recipientOf(notification as NotificationRecord, state),
      language,
      ...message,
    });
    return undefined;
  }

  /**
   * Each delivery goes out in a workflow of its own, which outlives the ticket's if need be. Its id
   * is the delivery's, so a retried write never starts a second one.
   */
  async function startDeliveries(ticketNumber: string, deliveryIds: string[], timeZone: string) {
    const { client, info } = Context.current();
    await Promise.all(
      deliveryIds.map(async (deliveryId) => {
        try {
          await client.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
            workflowId: `deliver-${deliveryId}`,
            taskQueue: info.taskQueue,
            args: [{ deliveryId, timeZone }],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            staticSummary: `${ticketNumber} · delivery ${deliveryId}`,
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }),
    );
  }

  return {
    async recordTicketChange({ ticket, change, timeZone }: RecordTicketChangeInput): Promise<void> {
      const deliveryIds = await saveTicketChange(db, ticket, change);
      await startDeliveries(ticket.number, deliveryIds, timeZone);
      log.info('ticket change recorded', {
        ticketNumber: ticket.number,
        version: ticket.version,
        events: change.events.map((event) => event.type),
        escalations: change.escalations.map((escalation) => escalation.id),
        deliveries: deliveryIds.length,
      });
    },

    /**
     * Sends one delivery: a notification through the provider, or a signed webhook POST. Every attempt
     * is recorded; a 5xx, a timeout or a refused connection throws, and Temporal retries with backoff.
     */
    async deliver({ deliveryId, timeZone }: DeliverInput): Promise<void> {
      const attempt = await beginAttempt(db, deliveryId);
      const startedAt = performance.now();
      try {
        const statusCode = await send(deliveryId, timeZone);
        const durationMs = performance.now() - startedAt;
        if (statusCode !== undefined && (statusCode < 200 || statusCode > 299)) {
          await recordAttempt(db, deliveryId, attempt, { ok: false, statusCode, durationMs });
          throw ApplicationFailure.retryable(`the receiver answered HTTP ${statusCode}`, 'DeliveryRefused');
        }
        await recordAttempt(db, deliveryId, attempt, { ok: true, statusCode, durationMs });
      } catch (error) {
        if (error instanceof ApplicationFailure && error.type === 'DeliveryRefused') throw error;
        const message = error instanceof Error ? error.message : String(error);
        await recordAttempt(db, deliveryId, attempt, {
          ok: false,
          error: message,
          durationMs: performance.now() - startedAt,
        });
        throw error;
      }
    },

    /** After the retry window: the delivery is given up, with the last error kept. */
    async giveUpDelivery({ deliveryId, error }: { deliveryId: string; error: string }): Promise<void> {
      await markDeliveryFailed(db, deliveryId, error);
    },

    /**
     * Picks the least-loaded matching engineer and reserves the place in the same transaction; the
     * same attempt retried finds the same engineer. Null when nobody matches.
     */
    async findEngineer({ ticketNumber, attempt, needs, exclude }: FindEngineerInput): Promise<string | null> {
      const engineerId = await reserveEngineer(db, {
        ticketNumber,
        attempt,
        needs,
        exclude,
        assignedAt: new Date().toISOString(),
      });
      log.info('dispatch searched', { ticketNumber, attempt, matched: engineerId !== null });
      return engineerId;
    },
  };
}

export type TicketActivities = ReturnType<typeof createActivities>;
