import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import { createCodecSessionStore } from '../db/codec-session-store';
import { AesGcmPayloadCodec } from '../temporal/codec';
import { createAuthenticator, createKeyResolver } from './auth';
import {
  apiCorsPlugin,
  declareNoNulCharacters,
  hardeningPlugin,
  refuseNulCharacters,
} from './plugins/hardening';
import { metricsPlugin } from './plugins/metrics';
import { frameworkProblem, Problem, registerProblemHandlers } from './problem';
import { calendarRoutes } from './routes/calendar';
import { CODEC_COOKIE, codecRoutes } from './routes/codec';
import { engineerRoutes } from './routes/engineers';
import { staffRoutes } from './routes/staff';
import { escalationRoutes } from './routes/escalations';
import { healthRoutes } from './routes/health';
import { partRoutes } from './routes/parts';
import { monthlyReportRoutes } from './routes/monthly-reports';
import { reportRoutes } from './routes/reports';
import { customerRoutes } from './routes/customers';
import { KPI_TARGETS } from '../domain/kpi';
import { ticketRoutes } from './routes/tickets';
import { webhookRoutes } from './routes/webhooks';
import { createTicketService } from './ticket-service';

const API_PREFIX = '/v1';

export interface AppDependencies {
  readonly config: AppConfig;
  readonly db: Database;
  readonly temporal: Client;
  readonly logger: FastifyBaseLogger;
}

/** Builds the HTTP API; `api/main.ts` only listens, tests call `inject`. */
export async function buildApp({ config, db, temporal, logger }: AppDependencies): Promise<FastifyInstance> {
  const { trustProxy } = config;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 256 * 1024,
    // Behind a proxy (TRUST_PROXY), request.ip is the client from X-Forwarded-For: rate limits count it.
    // A hop count trusts that many hops, as Fastify does for a number (which its types leave out).
    trustProxy:
      typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    frameworkErrors: frameworkProblem,
  }).withTypeProvider<ZodTypeProvider>();
  // JSON only — every other body is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  refusePrototypeKeysClearly(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const knownKey = createKeyResolver(config.apiKeys);
  await app.register(hardeningPlugin, {
    rateLimitPerMinute: config.rateLimitPerMinute,
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    isApiKey: (token) => knownKey(token) !== undefined,
  });
  await app.register(metricsPlugin, {
    db,
    cacheMs: config.metricsCacheMs,
    // Business totals on an internal listener only, when the deployment names one.
    ...(config.apiMetricsAddress && { server: Fastify({ loggerInstance: logger }) }),
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Aftercare API', version: '1', description: 'Durable after-sales service tickets.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          // What `/codec/session` sets: the codec routes take it instead of a key, from a browser.
          codecSession: { type: 'apiKey', in: 'cookie', name: CODEC_COOKIE },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: (route) => {
      const documented = jsonSchemaTransform(route);
      if (route.url.startsWith(`${API_PREFIX}/`)) {
        for (const part of ['params', 'querystring', 'body'] as const) {
          declareNoNulCharacters(documented.schema[part]);
        }
      }
      return documented;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { db, temporal });

  const tickets = createTicketService({
    db,
    temporal,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    customerIdSecret: config.customerIdSecret,
    actionTimeoutMs: config.actionTimeoutMs,
    idempotencyTtlMs: config.retention.idempotencyTtlMs,
  });
  const actorForKey = createKeyResolver(config.apiKeys);
  const authenticate = createAuthenticator(actorForKey);
  await app.register(
    async (v1) => {
      await v1.register(apiCorsPlugin, { origins: config.corsOrigins });
      v1.addHook('onRequest', authenticate);
      // What the API stores goes to PostgreSQL, which cannot hold a NUL character.
      v1.addHook('preValidation', refuseNulCharacters);
      await v1.register(ticketRoutes, { tickets, db });
      await v1.register(customerRoutes, { db });
      await v1.register(engineerRoutes, { db });
      await v1.register(staffRoutes, { db });
      await v1.register(escalationRoutes, { db });
      await v1.register(webhookRoutes, {
        db,
        maxActive: config.delivery.maxSubscriptions,
        targets: config.delivery.webhookTargets,
      });
      await v1.register(reportRoutes, {
        db,
        timeZone: config.policy.calendar.timeZone,
        targets: config.policy.targets ?? KPI_TARGETS,
        ...config.reports,
      });
      await v1.register(monthlyReportRoutes, {
        db,
        temporal,
        taskQueue: config.temporal.taskQueue,
        timeZone: config.policy.calendar.timeZone,
        targets: config.policy.targets ?? KPI_TARGETS,
      });
      await v1.register(calendarRoutes, { calendar: config.policy.calendar });
      await v1.register(partRoutes, { db, tickets, approvalThresholdFen: config.partsApprovalThresholdFen });
    },
    { prefix: API_PREFIX },
  );
  await app.register(codecRoutes, {
    prefix: '/codec',
    codec: new AesGcmPayloadCodec(config.payloadKeys),
    corsOrigins: config.codecCorsOrigins,
    actorForKey,
    sessions: createCodecSessionStore(db),
    sessionTtlMs: config.codecSessionTtlMs,
    isConfiguredActor: (actor) =>
      config.apiKeys.some((entry) => entry.actor.id === actor.id && entry.actor.role === actor.role),
  });
  return app;
}

/** Serves the app on HOST:PORT, and `/metrics` on API_METRICS_ADDRESS when one is set. */
export async function listen(app: FastifyInstance, config: AppConfig): Promise<void> {
  await app.listen({ host: config.host, port: config.port });
  if (app.metricsServer && config.apiMetricsAddress) await app.metricsServer.listen(config.apiMetricsAddress);
}

/**
 * Fastify's JSON parser refuses `__proto__` keys (and `constructor.prototype`) as prototype
 * poisoning, with the detail "Body is not valid JSON", which misleads when the JSON is valid. The
 * same parser and refusal, with a detail that names the key.
 */
function refusePrototypeKeysClearly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    parseJson(request, text, (error, value) => {
      if (error && isPlainJson(text)) {
        done(
          new Problem(
            400,
            'Bad Request',
            'body: a key named "__proto__", or "constructor" holding "prototype", is not accepted',
          ),
          undefined,
        );
        return;
      }
      done(error, value);
    });
  });
}

function isPlainJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
