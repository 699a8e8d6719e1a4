import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { TicketActivities } from '../activities';

/**
 * Sends what one ticket change queued — notifications and webhook deliveries — each retried by
 * Temporal with backoff for more than 24 hours. It runs apart from the ticket, so a receiver that
 * fails or hangs never holds the ticket up.
 */
export interface DeliveryWorkflowInput {
  /** The deliveries the change queued (keys, no personal data). */
  readonly deliveryIds: readonly string[];
  readonly timeZone: string;
}

const { giveUpDelivery } = proxyActivities<TicketActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const DELIVER_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '25 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 minutes' },
} as const;
const { deliver } = proxyActivities<TicketActivities>(DELIVER_OPTIONS);

export async function deliveryWorkflow({ deliveryIds, timeZone }: DeliveryWorkflowInput): Promise<void> {
  await Promise.all(
    deliveryIds.map(async (deliveryId) => {
      try {
        await deliver.executeWithOptions({ ...DELIVER_OPTIONS, summary: deliveryId }, [
          { deliveryId, timeZone },
        ]);
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        await giveUpDelivery({ deliveryId, error: error.cause?.message ?? error.message });
      }
    }),
  );
}
