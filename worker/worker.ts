import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities';
import type { RetentionSettings, WorkerTuning } from '../config';
import type { KpiTargets } from '../domain/kpi';
import { ensureMonthlyReportSchedule } from '../temporal/monthly-report';
import { ensureRetentionSchedule } from '../temporal/retention';

/** The workflow entry the SDK bundles in development and tests (TypeScript source). */
const workflowsEntry = path.join(__dirname, '..', 'workflows', 'index');
export const WORKFLOWS_PATH = ['.ts', '.js']
  .map((ext) => workflowsEntry + ext)
  .find((file) => existsSync(file));
/**
 * Loaded once per worker and shared between all its workflows (the SDK deep-freezes it): libraries
 * without per-workflow state (`workflows/shared-libraries.ts` says which, and why not zod). Otherwise
 * every workflow the worker takes on evaluates them again.
 */
export const SHARED_WORKFLOW_MODULES = [path.join(__dirname, '..', 'workflows', 'shared-libraries')];

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
  /** A workflow bundle built beforehand (the test setup builds one for all its workers). */
  readonly workflowBundlePath?: string;
  /** When given, the retention Schedule is created (or updated) to these settings before the worker starts. */
  readonly retention?: { readonly settings: RetentionSettings; readonly timeZone: string };
  /** When given, the monthly report Schedule is created (or updated) before the worker starts. */
  readonly monthlyReport?: { readonly timeZone: string; readonly targets: KpiTargets };
}

/** Only the settings given: an explicit undefined would replace the SDK's default. */
function tuningOptions(tuning: Partial<WorkerTuning> = {}) {
  const options = {
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTaskExecutions,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivityTaskExecutions,
    // The ticket's writes are local activities: the same bound applies to them.
    maxConcurrentLocalActivityExecutions: tuning.maxConcurrentActivityTaskExecutions,
    shutdownGraceTime:
      tuning.shutdownGraceSeconds === undefined ? undefined : tuning.shutdownGraceSeconds * 1000,
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** The worker that runs ticket workflows, the retention and monthly report workflows and their activities. */
export async function createTicketWorker(options: TicketWorkerOptions): Promise<Worker> {
  if (options.retention || options.monthlyReport) {
    const client = new Client({
      connection: options.connection,
      namespace: options.namespace,
      dataConverter: options.dataConverter,
    });
    if (options.retention) {
      await ensureRetentionSchedule(
        client,
        options.taskQueue,
        options.retention.settings,
        options.retention.timeZone,
      );
    }
    if (options.monthlyReport) {
      await ensureMonthlyReportSchedule(
        client,
        options.taskQueue,
        options.monthlyReport.timeZone,
        options.monthlyReport.targets,
      );
    }
  }
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    dataConverter: options.dataConverter,
    ...tuningOptions(options.tuning),
    ...(options.workflowBundlePath || existsSync(PREBUILT_BUNDLE)
      ? { workflowBundle: { codePath: options.workflowBundlePath ?? PREBUILT_BUNDLE } }
      : {
          workflowsPath: WORKFLOWS_PATH ?? `${workflowsEntry}.js`,
          bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
        }),
    activities: createActivities(options.dependencies),
  });
}
