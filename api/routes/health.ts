import { sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../db/client';
import { Problem } from '../problem';

export interface HealthRoutesOptions {
  readonly db: Database;
  readonly temporal: Client;
}

const CHECK_TIMEOUT_MS = 2_000;

async function check(
  log: FastifyBaseLogger,
  name: string,
  probe: () => Promise<unknown>,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return undefined;
  } catch (error) {
    log.warn({ err: error }, `readiness: ${name} unreachable`);
    return `${name} unreachable`;
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness and readiness: ready only while PostgreSQL and Temporal both answer. */
export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, { db, temporal }) => {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is alive' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { schema: { tags: ['health'], summary: 'PostgreSQL and Temporal are reachable' } },
    async (request) => {
      const failures = (
        await Promise.all([
          check(request.log, 'PostgreSQL', () => db.execute(sql`select 1`)),
          check(request.log, 'Temporal', () => temporal.workflowService.getSystemInfo({})),
        ])
      ).filter((failure): failure is string => failure !== undefined);
      if (failures.length > 0) throw new Problem(503, 'Not ready', failures.join('; '));
      return { status: 'ready' };
    },
  );
};
