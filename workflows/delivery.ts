import { ActivityFailure, proxyLocalActivities } from '@temporalio/workflow';
import type { TicketActivities } from '../activities';

/**
 * Sends one delivery a ticket change queued — a notification or a webhook POST — retried with
 * backoff for more than 24 hours. It runs apart from the ticket (and from the change's other
 * deliveries), so a receiver that fails or hangs holds nothing else up.
 *
 * The sends are local activities: a delivery that succeeds at once costs its workflow one workflow
 * task. Retries back off inside the worker up to a minute apart, then on durable timers.
 */
export interface DeliveryWorkflowInput {
  /** The delivery's key (no personal data). */
  readonly deliveryId: string;
  readonly timeZone: string;
}

const { giveUpDelivery } = proxyLocalActivities<TicketActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const DELIVER_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '25 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 minutes' },
} as const;
const { deliver } = proxyLocalActivities<TicketActivities>(DELIVER_OPTIONS);

export async function deliveryWorkflow({ deliveryId, timeZone }: DeliveryWorkflowInput): Promise<void> {
  try {
    await deliver.executeWithOptions({ ...DELIVER_OPTIONS, summary: deliveryId }, [{ deliveryId, timeZone }]);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    await giveUpDelivery({ deliveryId, error: error.cause?.message ?? error.message });
  }
}
