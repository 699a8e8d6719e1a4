import { proxyActivities } from '@temporalio/workflow';
import type { TicketActivities } from '../activities';
import type { RetentionCounts, RetentionInput } from '../domain/retention';

const { applyRetention } = proxyActivities<TicketActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '10 minutes', maximumAttempts: 5 },
});

/** One retention run, started by the retention Schedule (temporal/retention.ts). */
export async function retentionWorkflow(input: RetentionInput): Promise<RetentionCounts> {
  return applyRetention(input);
}
