import type { Actor, NotificationRecord, TicketChange, TicketState } from './ticket';

/** Appends a timeline event with the ticket's next sequence number (the event's idempotency key). */
export function appendEvent(
  state: TicketState,
  change: TicketChange,
  type: string,
  nowMs: number,
  actor: Actor | null,
  data: Record<string, unknown>,
): void {
  state.eventSeq += 1;
  change.events.push({ seq: state.eventSeq, type, at: new Date(nowMs).toISOString(), actor, data });
}

interface NotificationRequest {
  kind: NotificationRecord['kind'];
  recipientRole: NotificationRecord['recipientRole'];
  channel: NotificationRecord['channel'];
  nowMs: number;
  data: Record<string, unknown>;
}

/** Queues a notification (and its timeline entry) under a deterministic key. */
export function appendNotification(
  state: TicketState,
  change: TicketChange,
  request: NotificationRequest,
): void {
  state.notificationSeq += 1;
  const notification: NotificationRecord = {
    key: `${state.number}:n${state.notificationSeq}`,
    ticketNumber: state.number,
    kind: request.kind,
    recipientRole: request.recipientRole,
    channel: request.channel,
    at: new Date(request.nowMs).toISOString(),
    data: request.data,
  };
  change.notifications.push(notification);
  appendEvent(state, change, 'notification', request.nowMs, null, {
    key: notification.key,
    kind: notification.kind,
    recipientRole: notification.recipientRole,
    channel: notification.channel,
  });
}
