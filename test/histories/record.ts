import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDatabase } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres';
import { openTicket } from '../../domain/lifecycle';
import { workflowIdOf } from '../../domain/ticket';
import { resolveTemporalBinary, TEMPORAL_TEST_SERVER } from '../../temporal/binaries';
import { registerSearchAttributes } from '../../temporal/register-search-attributes';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates } from '../../workflows/messages';
import { createTicketWorker } from '../../worker/worker';
import {
  AGENT,
  intake,
  policy,
  satisfiedCallback,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  testDataConverter,
  unhappyCallback,
} from '../support/fixtures';

/**
 * `npm run histories:record`: runs complete ticket lifecycles on the time-skipping test server and
 * writes their histories to test/histories/, which the replay test replays against the current
 * workflow code. Re-record only when a change is meant to be incompatible (and then version it).
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const defaults = policy();

type Handle = WorkflowHandle<typeof ticketWorkflow>;

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-histories-'));
  chmodSync(scratch, 0o755);
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(scratch, 'postgres'),
    port: 20_000 + Math.floor(Math.random() * 20_000),
  });
  await applyMigrations(postgres.url);
  const database = connectDatabase(postgres.url, { max: 4 });
  const { executable } = await resolveTemporalBinary(TEMPORAL_TEST_SERVER);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable },
    client: { dataConverter: testDataConverter },
  });
  await registerSearchAttributes(env.connection, 'default');
  const taskQueue = 'record-histories';
  const worker = await createTicketWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    dataConverter: testDataConverter,
    dependencies: { db: database.db },
  });

  async function start(number: string): Promise<Handle> {
    const ticket = openTicket({
      number,
      intake: intake({ priority: 'urgent' }),
      customerId: TEST_CUSTOMER_ID,
      createdBy: AGENT,
      createdAtMs: await env.currentTimeMs(),
      policy: defaults,
    });
    return env.client.workflow.start(ticketWorkflow, {
      workflowId: workflowIdOf(number),
      taskQueue,
      args: [{ ticket, policy: defaults }],
    });
  }
  const actor = SUPERVISOR;
  const scenarios: Record<string, () => Promise<Handle>> = {
    async 'happy-path'() {
      const handle = await start('WO20260101-001');
      await env.sleep(3 * MINUTE);
      await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor, input: {} }] });
      await env.sleep(2 * HOUR);
      await handle.executeUpdate(actionUpdates.resolve, {
        args: [{ actor, input: { summary: 'Replaced the fan motor' } }],
      });
      await env.sleep(5 * HOUR);
      await handle.executeUpdate(actionUpdates.callback, { args: [{ actor, input: satisfiedCallback }] });
      await handle.result();
      return handle;
    },
    async 'every-core-escalation'() {
      const handle = await start('WO20260101-002');
      await env.sleep(11 * MINUTE);
      await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor, input: { note: 'late' } }] });
      await handle.executeUpdate(actionUpdates.resolve, { args: [{ actor, input: { summary: 'Fixed' } }] });
      await env.sleep(25 * HOUR);
      await handle.executeUpdate(actionUpdates.callback, { args: [{ actor, input: unhappyCallback }] });
      await env.sleep(2 * HOUR);
      await handle.executeUpdate(actionUpdates['follow-up'], {
        args: [
          {
            actor,
            input: { contactMade: true, cause: 'Late visit', improvementPlan: 'Senior engineer revisits' },
          },
        ],
      });
      await env.sleep(HOUR);
      await handle.executeUpdate(actionUpdates.callback, { args: [{ actor, input: satisfiedCallback }] });
      await handle.result();
      return handle;
    },
  };

  await worker.runUntil(async () => {
    for (const [name, run] of Object.entries(scenarios)) {
      const handle = await run();
      const file = path.join(__dirname, `${name}.json`);
      writeFileSync(file, `${historyToJSON(await handle.fetchHistory())}\n`);
      process.stdout.write(`recorded ${path.relative(process.cwd(), file)}\n`);
    }
  });
  await env.teardown();
  await database.close();
  await postgres.stop();
  rmSync(scratch, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `recording failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
