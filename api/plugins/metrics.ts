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

/**
 * `GET /metrics` in the Prometheus text format: HTTP request durations per route and the process's
 * own metrics (fastify-metrics), and business counters read from PostgreSQL at scrape time, so
 * every API instance reports the same totals however many workers wrote them.
 */
export interface MetricsOptions {
  readonly db: Database;
}

type Labelled = readonly { label: string | number; n: number }[];

/** A counter whose value is a `count(*) … group by` over PostgreSQL, computed at each scrape. */
function databaseCounter(
  app: FastifyInstance,
  registry: promClient.Registry,
  definition: {
    name: string;
    help: string;
    label: string;
    /** Label values reported as 0 until rows exist, so a rate over them is defined from the start. */
    known: readonly string[];
    query: () => Promise<Labelled>;
  },
): void {
  new promClient.Counter({
    name: definition.name,
    help: definition.help,
    labelNames: [definition.label],
    registers: [registry],
    async collect() {
      let rows: Labelled;
      try {
        rows = await definition.query();
      } catch (error) {
        // The scrape still returns the HTTP and process metrics; these series are absent meanwhile.
        app.log.warn({ err: error }, `metrics: cannot read ${definition.name} from PostgreSQL`);
        this.reset();
        return;
      }
      // Replaced synchronously after the query, so concurrent scrapes cannot add up.
      this.reset();
      for (const value of definition.known) this.inc({ [definition.label]: value }, 0);
      for (const row of rows) this.inc({ [definition.label]: String(row.label) }, Number(row.n));
    },
  });
}

async function metrics(app: FastifyInstance, { db }: MetricsOptions): Promise<void> {
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

  databaseCounter(app, registry, {
    name: 'aftercare_tickets_created_total',
    help: 'Tickets created, by priority (rows of tickets).',
    label: 'priority',
    known: PRIORITIES,
    query: countBy(tickets.priority, tickets),
  });
  databaseCounter(app, registry, {
    name: 'aftercare_escalations_total',
    help: 'Escalations fired, by level (1 supervisor, 2 manager, 3 director).',
    label: 'level',
    known: Object.keys(ESCALATION_ROLES),
    query: countBy(escalations.level, escalations),
  });
  databaseCounter(app, registry, {
    name: 'aftercare_sla_breaches_total',
    help: 'SLA clocks that ran out, by clock (each breach records one escalation).',
    label: 'clock',
    known: Object.keys(CLOCK_RULES),
    query: countBy(escalations.clock, escalations),
  });

  app.get(
    '/metrics',
    { schema: { hide: true }, logLevel: 'warn', exposeHeadRoute: false },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}

export const metricsPlugin = fp(metrics, { name: 'aftercare-metrics', fastify: '5.x' });
