import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { Database } from '../../db/client';
import { registerSearchAttributes } from '../../temporal/register-search-attributes';
import { createTicketWorker } from '../../worker/worker';
import { testDataConverter } from './fixtures';

/** A time-skipping Temporal test server (the Java one) for proving clocks at their real lengths. */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const path = inject('testServerPath');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: path ? { type: 'existing-path', path } : { type: 'cached-download' } },
    client: { dataConverter: testDataConverter },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
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
    dataConverter: testDataConverter,
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
