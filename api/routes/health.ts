import { sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { Problem } from '../problem';
import { problemResponse } from '../schemas';
import { sharedRead } from '../shared-read';

export interface HealthRoutesOptions {
  readonly db: Database;
  readonly temporal: Client;
}

const CHECK_TIMEOUT_MS = 2_000;
/**
 * How long one readiness answer is reused. Probes need no key and are never rate limited (a limited
 * probe would mark a healthy instance unready), so a flood of them shares one check per interval
 * instead: at most one `select 1` and one Temporal call every 2 s, whatever the probe rate.
 */
const READY_CACHE_MS = 2_000;

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
  const failures = sharedRead(READY_CACHE_MS, async () =>
    (
      await Promise.all([
        check(app.log, 'PostgreSQL', () => db.execute(sql`select 1`)),
        check(app.log, 'Temporal', () => temporal.workflowService.getSystemInfo({})),
      ])
    ).filter((failure): failure is string => failure !== undefined),
  );

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'The process is alive',
        // Probes need no API key: an empty security requirement says so in the document.
        security: [],
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'PostgreSQL and Temporal are reachable',
        security: [],
        response: {
          200: z.object({ status: z.literal('ready') }),
          503: problemResponse('PostgreSQL or Temporal unreachable (named in `detail`), or overloaded'),
        },
      },
    },
    async () => {
      const unreachable = await failures();
      if (unreachable.length > 0) throw new Problem(503, 'Not ready', unreachable.join('; '));
      return { status: 'ready' as const };
    },
  );
};
