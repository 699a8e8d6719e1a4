import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versioningActivities } from '../fixtures/versioning/activities';
import { createTimeSkippingEnvironment } from '../support/temporal';

/**
 * How to change workflow code without breaking running tickets (docs/deploy.md, "Upgrading
 * workflow code"): a history recorded under version 1 is replayed against version 2. Changed in
 * place, the replay fails — the gate that `test/workflow/replay.test.ts` applies to the real ticket workflow;
 * behind `patched()`, the old history replays and new executions take the new path.
 */
const fixtures = path.join(__dirname, '..', 'fixtures', 'versioning');
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnvironment();
});

afterAll(async () => {
  await env?.teardown();
});

async function run(version: string, workflowId: string) {
  const taskQueue = `versioning-${version}-${process.pid}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: path.join(fixtures, `${version}.ts`),
    activities: versioningActivities,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('versionedTicket', { taskQueue, workflowId });
    await handle.result();
    return handle.fetchHistory();
  });
}

const replay = (version: string, history: Awaited<ReturnType<typeof run>>) =>
  Worker.runReplayHistory({ workflowsPath: path.join(fixtures, `${version}.ts`) }, history);

describe('changing workflow code safely', () => {
  it('fails the replay gate when version 2 changes the code in place', async () => {
    const history = await run('v1', `versioning-v1-a-${process.pid}`);
    await expect(replay('v2-unpatched', history)).rejects.toBeInstanceOf(DeterminismViolationError);
  });

  it('replays version 1 histories under patched() and runs the new step for new tickets', async () => {
    const old = await run('v1', `versioning-v1-b-${process.pid}`);
    await expect(replay('v2-patched', old)).resolves.toBeUndefined();
    const fresh = await run('v2-patched', `versioning-v2-${process.pid}`);
    const steps = (fresh.events ?? [])
      .filter((event) => event.activityTaskScheduledEventAttributes)
      .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name);
    expect(steps).toEqual(['record', 'record', 'record']);
    const markers = (fresh.events ?? []).filter((event) => event.markerRecordedEventAttributes);
    expect(markers).toHaveLength(1);
  });
});
