import { randomInt } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/client';
import { connectNativeConnection } from '../../temporal/connection';
import { registerSearchAttributes } from '../../temporal/register-search-attributes';
import { createDataConverter } from '../../temporal/data-converter';
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
    workflowBundlePath: inject('workflowBundlePath'),
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

/**
 * Runs the real ticket worker against the configured Temporal server (the dev server of the test
 * setup), with its activities on `db` and the config's payload keys; `stop` drains it and closes its
 * connection.
 */
export async function runWorkerFor(config: AppConfig, db: Database): Promise<() => Promise<void>> {
  const connection = await connectNativeConnection(config.temporal);
  const worker = await createTicketWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter: createDataConverter(config.payloadKeys),
    dependencies: { db },
    workflowBundlePath: inject('workflowBundlePath'),
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
}

/**
 * A separate dev server (in memory) with server-side settings of its own, e.g. a low
 * `limit.historyCount.suggestContinueAsNew` so that continue-as-new happens within a test.
 */
export async function startDevServerWith(
  dynamicConfig: Record<string, number>,
): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: inject('temporalCliPath') },
      ip: '127.0.0.1',
      extraArgs: Object.entries(dynamicConfig).flatMap(([key, value]) => [
        '--dynamic-config-value',
        `${key}=${value}`,
      ]),
    },
    client: { dataConverter: testDataConverter },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/**
 * A namespace of its own on the test dev server, with Aftercare's search attributes: for a test file
 * on a database of its own, whose ticket numbers (a serial per database) would otherwise name the
 * same workflows as another file's.
 */
export async function createOwnNamespace(name: string): Promise<string> {
  const namespace = `${name}-${process.pid}-${randomInt(1e6)}`;
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await registerSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
  return namespace;
}
