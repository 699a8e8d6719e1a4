import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../db/migrate';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres';
import { startTemporalDevServer } from '../../dev/temporal-dev-server';
import { resolveTemporalBinary, TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../temporal/binaries';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    testServerPath: string | undefined;
    temporalCliPath: string;
  }
}

const freePort = () => 20_000 + Math.floor(Math.random() * 20_000);

/**
 * The real parts every integration test talks to: an embedded PostgreSQL (fresh folder, migrated),
 * the Temporal dev server, and the path of the time-skipping test server for workflow tests.
 */
export default async function setup(project: TestProject) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-test-'));
  // As root, PostgreSQL runs as the postgres user, which must be able to enter the folder.
  chmodSync(scratch, 0o755);
  const log = (line: string) => process.stderr.write(`[test setup] ${line}\n`);
  const [postgres, temporal, testServer] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), port: freePort() }),
    startTemporalDevServer({ log }),
    resolveTemporalBinary(TEMPORAL_TEST_SERVER, { allowSdkDownload: true, log }),
  ]);
  await applyMigrations(postgres.url);
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
