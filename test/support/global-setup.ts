import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../db/migrate';
import { randomPostgresPort, startEmbeddedPostgres } from '../../dev/embedded-postgres';
import { startTemporalDevServer } from '../../dev/temporal-dev-server';
import { resolveTemporalBinary, TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../temporal/binaries';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../worker/worker';
import { loadConfig } from '../../config';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    testServerPath: string | undefined;
    temporalCliPath: string;
    workflowBundlePath: string;
  }
}

/**
 * The real parts every integration test talks to: an embedded PostgreSQL (fresh folder, migrated),
 * the Temporal dev server, the path of the time-skipping test server for workflow tests, and the
 * workflow bundle every test worker loads: bundled once here instead of by webpack inside each test
 * file's process, where it held the event loop for seconds and the API under test answered 503
 * (load shedding) to the first requests after it.
 */
export default async function setup(project: TestProject) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-test-'));
  // As root, PostgreSQL runs as the postgres user, which must be able to enter the folder.
  chmodSync(scratch, 0o755);
  const log = (line: string) => process.stderr.write(`[test setup] ${line}\n`);
  const [postgres, temporal, testServer, bundle] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), port: randomPostgresPort() }),
    startTemporalDevServer({ searchAttributesChange: true, log }),
    resolveTemporalBinary(TEMPORAL_TEST_SERVER, { allowSdkDownload: true, log }),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH ?? '', preloadModules: SHARED_WORKFLOW_MODULES }),
  ]);
  const workflowBundlePath = path.join(scratch, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  project.provide('workflowBundlePath', workflowBundlePath);
  await applyMigrations(postgres.url, loadConfig({}).payloadKeys);
  // The dev server above was started from this same binary; tests also use it as the operator's CLI.
  const cli = await resolveTemporalBinary(TEMPORAL_CLI, { allowSdkDownload: false, log });
  if (cli.executable.type === 'existing-path') project.provide('temporalCliPath', cli.executable.path);
  project.provide('databaseUrl', postgres.url);
  project.provide('temporalAddress', temporal.address);
  project.provide(
    'testServerPath',
    testServer.executable.type === 'existing-path' ? testServer.executable.path : undefined,
  );
  return async () => {
    await temporal.stop();
    await postgres.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
}
