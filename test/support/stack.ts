import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { expect, inject, vi } from 'vitest';
import { buildApp } from '../../api/app';
import { loadConfig, type AppConfig } from '../../config';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { connectClient } from '../../temporal/connection';
import { createDataConverter } from '../../temporal/data-converter';

export const ADMIN_KEY = 'test-admin-key-0001';
export const AGENT_KEY = 'test-agent-key-0007';

/**
 * Writes a short SLA policy file, the same way an operator would configure one; without warnings
 * before a breach unless the document names `warnAt` (as `policy()` in fixtures.ts).
 */
export function writePolicyFile(document: Record<string, unknown>): string {
  const file = path.join(tmpdir(), `aftercare-policy-${process.pid}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ warnAt: null, ...document }));
  return file;
}

export interface ApiStack {
  readonly config: AppConfig;
  readonly app: FastifyInstance;
  readonly database: DatabaseHandle;
  readonly temporal: Client;
  readonly close: () => Promise<void>;
}

/**
 * Waits until a built app takes traffic. A test file's start-up (imports, bundling in a sibling
 * process on 2 cores) can block the event loop for over a second; load shedding then answers the
 * first requests 503 until its next sample. Tests start on a server that is not under pressure, as a
 * deployed one behind its readiness check would.
 */
export async function untilNotShedding(app: FastifyInstance): Promise<void> {
  await app.ready();
  await vi.waitFor(() => expect(app.isUnderPressure()).toBe(false), { timeout: 10_000, interval: 100 });
}

/** The real API against the test PostgreSQL and Temporal dev server, on its own task queue. */
export async function startApi(options: {
  taskQueue: string;
  policy: Record<string, unknown>;
  /** Extra environment variables for `loadConfig`, e.g. `{ RATE_LIMIT_PER_MINUTE: '5' }`. */
  env?: Record<string, string>;
  /** When the API starts: the policy's statutory days start with its year. Now unless set. */
  startedAtMs?: number;
}): Promise<ApiStack> {
  const config = loadConfig(
    {
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      SLA_POLICY_FILE: writePolicyFile(options.policy),
      API_KEYS: `${ADMIN_KEY}:admin:ops-1,${AGENT_KEY}:agent:agent-7`,
      // Test receivers listen on 127.0.0.1.
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      // Two test files, Temporal and PostgreSQL share 2 cores: a file's process may wait over a second
      // for a core, which load shedding reads as its own overload and answers 503. Shedding has its
      // own tests (hardening, hardening-config); here it is off unless a test sets it.
      MAX_EVENT_LOOP_DELAY_MS: '0',
      ...options.env,
    },
    options.startedAtMs,
  );
  const database = connectDatabase(config.databaseUrl ?? inject('databaseUrl'), {
    max: 10,
    payloadKeys: config.payloadKeys,
  });
  const temporal = await connectClient(config.temporal, createDataConverter(config.payloadKeys));
  const app = await buildApp({ config, db: database.db, temporal, logger: pino({ level: 'silent' }) });
  await untilNotShedding(app);
  return {
    config,
    app,
    database,
    temporal,
    close: async () => {
      await app.close();
      await temporal.connection.close();
      await database.close();
    },
  };
}
