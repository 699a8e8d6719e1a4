import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities';
import type { WorkerTuning } from '../config';

/** The workflow entry the SDK bundles in development and tests (TypeScript source). */
const workflowsEntry = path.join(__dirname, '..', 'workflows', 'index');
export const WORKFLOWS_PATH = ['.ts', '.js']
  .map((ext) => workflowsEntry + ext)
  .find((file) => existsSync(file));
/** The bundle `npm run build` makes (dist/workflow-bundle.js): a built worker starts without webpack. */
const PREBUILT_BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');

export interface TicketWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly dataConverter: DataConverter;
  readonly dependencies: ActivityDependencies;
  /** See `WorkerTuning` in config; the SDK's own defaults otherwise. */
  readonly tuning?: Partial<WorkerTuning>;
}

/** The worker that runs ticket workflows and their activities. */
export function createTicketWorker(options: TicketWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    dataConverter: options.dataConverter,
    maxCachedWorkflows: options.tuning?.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: options.tuning?.maxConcurrentWorkflowTaskExecutions,
    maxConcurrentActivityTaskExecutions: options.tuning?.maxConcurrentActivityTaskExecutions,
    shutdownGraceTime:
      options.tuning?.shutdownGraceSeconds === undefined
        ? undefined
        : options.tuning.shutdownGraceSeconds * 1000,
    ...(existsSync(PREBUILT_BUNDLE)
      ? { workflowBundle: { codePath: PREBUILT_BUNDLE } }
      : { workflowsPath: WORKFLOWS_PATH ?? `${workflowsEntry}.js` }),
    activities: createActivities(options.dependencies),
  });
}
