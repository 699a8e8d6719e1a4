import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities';

/** The workflow entry the SDK bundles: TypeScript source in development and tests, JavaScript when built. */
const workflowsEntry = path.join(__dirname, '..', 'workflows', 'index');
export const WORKFLOWS_PATH = ['.ts', '.js']
  .map((ext) => workflowsEntry + ext)
  .find((file) => existsSync(file));

export interface TicketWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly dataConverter: DataConverter;
  readonly dependencies: ActivityDependencies;
  /** See `workerMaxCachedWorkflows` in config; the SDK sizes it from the machine's memory otherwise. */
  readonly maxCachedWorkflows?: number;
}

/** The worker that runs ticket workflows and their activities. */
export function createTicketWorker(options: TicketWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    dataConverter: options.dataConverter,
    maxCachedWorkflows: options.maxCachedWorkflows,
    workflowsPath: WORKFLOWS_PATH ?? `${workflowsEntry}.js`,
    activities: createActivities(options.dependencies),
  });
}
