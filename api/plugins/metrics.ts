import { count } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import fastifyMetrics from 'fastify-metrics';
import fp from 'fastify-plugin';
import * as promClient from 'prom-client';
import type { Database } from '../../db/client';
import { escalations, tickets } from '../../db/schema';
import { CLOCK_RULES } from '../../domain/clocks';
import { ESCALATION_ROLES, PRIORITIES } from '../../domain/ticket';
import { sharedRead } from '../shared-read';

/**
 * `GET /metrics` in the Prometheus text format: HTTP request durations per route and the process's
 * own metrics (fastify-metrics), and business counters read from PostgreSQL, so every API instance
 * reports the same totals however many workers wrote them. The counters' three `count(*)` scans run
 * at most once per `cacheMs`, shared by every scrape meanwhile: `/metrics` needs no key and is never
 * rate limited or shed, so a flood of scrapes must not become a flood of scans.
 */
export interface MetricsOptions {
  readonly db: Database;
  readonly cacheMs: number;
  /**
   * Serve `/metrics` on this server (an internal listener, `API_METRICS_ADDRESS`) instead of the
   * app's own; it is closed with the app and reachable as `app.metricsServer`.
   */
  readonly server?: FastifyInstance;
}

declare module 'fastify' {
  interface FastifyInstance {
    metricsServer?: FastifyInstance;
  }
}

type Labelled = readonly { label: string | number; n: number }[];

interface DatabaseCounter {
  name: string;
  help: string;
  label: string;
  /** Label values reported as 0 until rows exist, so a rate over them is defined from the start. */
  known: readonly string[];
  query: () => Promise<Labelled>;
}

/**
 * The counters' values as PostgreSQL last answered, one read for all of them; a counter whose
 * query failed is `undefined` (its series are absent from the scrape, the others still served).
 */
function sharedCounts(app: FastifyInstance, counters: readonly DatabaseCounter[], cacheMs: number) {
  return sharedRead(cacheMs, () =>
    Promise.all(
      counters.map(async (counter) => {
        try {
          return await counter.query();
        } catch (error) {
          app.log.warn({ err: error }, `metrics: cannot read ${counter.name} from PostgreSQL`);
          return undefined;
        }
      }),
    ),
  );
}

async function metrics(app: FastifyInstance, { db, cacheMs, server }: MetricsOptions): Promise<void> {
  // One registry per app (tests build several apps in one process), nothing in the global one.
  const registry = new promClient.Registry();
  await app.register(fastifyMetrics, {
    promClient,
    endpoint: null,
    defaultMetrics: { enabled: true, register: registry },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      routeBlacklist: ['/metrics'],
      // The summary is disabled, but fastify-metrics creates it anyway: registered nowhere.
      overrides: { histogram: { registers: [registry] }, summary: { registers: [] } },
    },
  });

  const countBy = (column: PgColumn, table: typeof tickets | typeof escalations) => async () =>
    db.select({ label: column, n: count() }).from(table).groupBy(column) as Promise<Labelled>;

  const counters: DatabaseCounter[] = [
    {
      name: 'aftercare_tickets_created_total',
      help: 'Tickets created, by priority (rows of tickets).',
      label: 'priority',
      known: PRIORITIES,
      query: countBy(tickets.priority, tickets),
    },
    {
      name: 'aftercare_escalations_total',
      help: 'Escalations fired, by level (1 supervisor, 2 manager, 3 director).',
      label: 'level',
      known: Object.keys(ESCALATION_ROLES),
      query: countBy(escalations.level, escalations),
    },
    {
      name: 'aftercare_sla_breaches_total',
      help: 'SLA clocks that ran out, by clock (each breach records one escalation).',
      label: 'clock',
      known: Object.keys(CLOCK_RULES),
      query: countBy(escalations.clock, escalations),
    },
  ];
  const counts = sharedCounts(app, counters, cacheMs);
  counters.forEach((definition, index) => {
    new promClient.Counter({
      name: definition.name,
      help: definition.help,
      labelNames: [definition.label],
      registers: [registry],
      async collect() {
        const rows = (await counts())[index];
        // Replaced synchronously after the read, so concurrent scrapes cannot add up.
        this.reset();
        if (!rows) return;
        for (const value of definition.known) this.inc({ [definition.label]: value }, 0);
        for (const row of rows) this.inc({ [definition.label]: String(row.label) }, Number(row.n));
      },
    });
  });

  (server ?? app).get(
    '/metrics',
    { schema: { hide: true }, logLevel: 'warn', exposeHeadRoute: false },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
  if (server) {
    app.decorate('metricsServer', server);
    app.addHook('onClose', async () => server.close());
  }
}

export const metricsPlugin = fp(metrics, { name: 'aftercare-metrics', fastify: '5.x' });
