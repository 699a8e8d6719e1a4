import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { Database } from '../../db/client';
import { createTicketWorker } from '../../worker/worker';

/** A time-skipping Temporal test server (the Java one) for proving clocks at their real lengths. */
export function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const path = inject('testServerPath');
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: path ? { type: 'existing-path', path } : { type: 'cached-download' } },
  });
}

export interface RunningWorker {
  readonly worker: Worker;
  readonly stop: () => Promise<void>;
}

/** Runs the real ticket worker (workflows + Postgres activities) until `stop`. */
export async function runTicketWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  db: Database,
): Promise<RunningWorker> {
  const worker = await createTicketWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    dependencies: { db },
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}
