import type { ClaimedDelivery } from '../db/delivery-store';
import type { AttemptResult } from '../domain/delivery-rules';
import { LOW_STOCK_NOTICE, type LowStockNotice } from '../domain/parts';
import {
  MONTHLY_REPORT_OVERDUE,
  MONTHLY_REPORT_READY,
  MONTHLY_REPORT_WEBHOOK_EVENT,
  monthlyReportLinks,
  monthOfWebhookDelivery,
  type MonthlyReportOverdueNotice,
  type MonthlyReportReadyNotice,
} from '../domain/monthly-report';
import {
  renderLowStock,
  renderMonthlyReportOverdue,
  renderMonthlyReportReady,
  renderNotification,
  renderSubscriptionPaused,
  type RenderedMessage,
} from '../domain/templates';
import { staffAddress, type StaffContact } from '../domain/staff';
import type { Language, NotificationRecord, Role, TicketState } from '../domain/ticket';
import type { NotificationProvider } from './providers';
import { postWebhook, WebhookRefusedError, type WebhookTransport } from './webhook';

/** Sends one claimed delivery and says what happened; it never throws for a receiver's failure. */
export interface SendContext {
  readonly provider: NotificationProvider;
  /** The business time zone local times in messages are written in. */
  readonly timeZone: string;
  readonly webhooks: WebhookTransport;
  /** The staff directory: how a named person is reached, and their superior of a role. */
  readonly staff: StaffDirectory;
}

export interface StaffDirectory {
  contact(id: string): Promise<StaffContact | undefined>;
  superiorWithRole(id: string, role: Role): Promise<StaffContact | undefined>;
}

/** Staff notices not about one ticket are written in the business's language. */
const STAFF_LANGUAGE: Language = 'zh-CN';

class FinalError extends Error {}

/**
 * Who a notification goes to, and on which channel: the customer's phone or address; a named
 * person (`personId`), or the superior of the role asked for above the person responsible
 * (`superiorOf`), by the channel their staff record gives; else the role's inbox (an engineer's
 * dispatch offer to the engineer).
 */
async function addressOf(
  notification: NonNullable<ClaimedDelivery['notification']>,
  channel: string,
  state: TicketState,
  staff: StaffDirectory,
): Promise<{ channel: string; recipient: string }> {
  if (notification.recipientRole !== 'customer') {
    const role = notification.recipientRole as Role;
    const { engineerId, personId, superiorOf } = notification.data;
    if (role === 'engineer' && typeof engineerId === 'string') {
      return { channel, recipient: `engineer:${engineerId}` };
    }
    const person =
      typeof personId === 'string'
        ? await staff.contact(personId)
        : typeof superiorOf === 'string'
          ? await staff.superiorWithRole(superiorOf, role)
          : undefined;
    if (person) return staffAddress(person);
    // Named but not on file: an engineer by their engineer id, other staff by their actor id.
    if (typeof personId === 'string') {
      return { channel, recipient: role === 'engineer' ? `engineer:${personId}` : `staff:${personId}` };
    }
    return { channel, recipient: `role:${role}` };
  }
  const customer = state.intake.customer;
  const address = channel === 'email' ? customer.email : customer.phone;
  if (!address) throw new FinalError(`the customer has no ${channel} address`);
  return { channel, recipient: address };
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : 'an invalid URL';
}

/** A notice to a role's inbox that is about no ticket (low stock, the monthly report), or undefined. */
function renderStaffNotice(
  notification: NonNullable<ClaimedDelivery['notification']>,
  timeZone: string,
): RenderedMessage | undefined {
  const data = notification.data as unknown;
  switch (notification.kind) {
    case LOW_STOCK_NOTICE:
      return renderLowStock(data as LowStockNotice, STAFF_LANGUAGE);
    case MONTHLY_REPORT_READY:
      return renderMonthlyReportReady(data as MonthlyReportReadyNotice, STAFF_LANGUAGE);
    case MONTHLY_REPORT_OVERDUE:
      return renderMonthlyReportOverdue(data as MonthlyReportOverdueNotice, STAFF_LANGUAGE, timeZone);
    default:
      return undefined;
  }
}

/** The one webhook about no ticket: a month's report is ready (`monthly_report_ready`). */
async function sendMonthlyReportWebhook(
  delivery: ClaimedDelivery,
  context: SendContext,
): Promise<AttemptResult> {
  const month = monthOfWebhookDelivery(delivery.id);
  const { subscription } = delivery;
  if (!subscription || !month) throw new FinalError(`delivery ${delivery.id} lost its ticket`);
  const body = JSON.stringify({
    deliveryId: delivery.id,
    type: MONTHLY_REPORT_WEBHOOK_EVENT,
    report: { month, links: monthlyReportLinks(month) },
  });
  const statusCode = await postWebhook(
    {
      url: subscription.url,
      secret: subscription.secret,
      deliveryId: delivery.id,
      eventType: MONTHLY_REPORT_WEBHOOK_EVENT,
      body,
    },
    context.webhooks,
  );
  return { statusCode };
}

async function send(delivery: ClaimedDelivery, context: SendContext): Promise<AttemptResult> {
  const { ticket, notification, subscription, event } = delivery;
  if (delivery.kind === 'notice') {
    if (!subscription) throw new FinalError(`notice ${delivery.id} lost its subscription`);
    const message = renderSubscriptionPaused(
      {
        subscriptionId: delivery.subscriptionId ?? '',
        host: hostOf(subscription.url),
        reason: subscription.disabledReason ?? 'the receiver kept failing',
      },
      STAFF_LANGUAGE,
    );
    await context.provider.send({
      deliveryId: delivery.id,
      channel: delivery.channel,
      recipient: 'role:manager',
      language: STAFF_LANGUAGE,
      ...message,
    });
    return { sent: true };
  }
  const staffNotice = !ticket && notification ? renderStaffNotice(notification, context.timeZone) : undefined;
  if (notification && staffNotice) {
    await context.provider.send({
      deliveryId: delivery.id,
      channel: delivery.channel,
      recipient: `role:${notification.recipientRole}`,
      language: STAFF_LANGUAGE,
      ...staffNotice,
    });
    return { sent: true };
  }
  if (!ticket && delivery.kind === 'webhook') return sendMonthlyReportWebhook(delivery, context);
  if (!ticket) throw new FinalError(`delivery ${delivery.id} lost its ticket`);
  if (delivery.kind === 'webhook') {
    if (!subscription || !event) throw new FinalError(`delivery ${delivery.id} lost its event`);
    const body = JSON.stringify({
      deliveryId: delivery.id,
      type: event.type,
      ticket: { number: ticket.number, status: ticket.status, priority: ticket.intake.priority },
      event: { seq: event.seq, type: event.type, at: event.at, data: event.data },
    });
    const statusCode = await postWebhook(
      {
        url: subscription.url,
        secret: subscription.secret,
        deliveryId: delivery.id,
        eventType: event.type,
        body,
      },
      context.webhooks,
    );
    return { statusCode };
  }
  if (!notification) throw new FinalError(`delivery ${delivery.id} lost its notification`);
  const language = ticket.intake.language ?? 'zh-CN';
  const record = { ...notification, ticketNumber: ticket.number } as Pick<
    NotificationRecord,
    'kind' | 'ticketNumber' | 'data'
  >;
  await context.provider.send({
    deliveryId: delivery.id,
    ...(await addressOf(notification, delivery.channel, ticket, context.staff)),
    language,
    ...renderNotification(record, language, context.timeZone),
  });
  return { sent: true };
}

/** One attempt at a delivery: the receiver's status, or the error that stopped it (final or not). */
export async function attemptDelivery(
  delivery: ClaimedDelivery,
  context: SendContext,
): Promise<AttemptResult> {
  try {
    return await send(delivery, context);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: message, final: error instanceof FinalError || error instanceof WebhookRefusedError };
  }
}
