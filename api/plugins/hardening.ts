import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Problem } from '../problem';

/**
 * Security headers, per-key rate limiting and load shedding for the whole API. Registered once, early,
 * on the root instance (`fastify-plugin`), so every route registered after it is covered.
 */
export interface HardeningOptions {
  /** Requests per minute one API key (or, without a known key, one client IP) may make. */
  readonly rateLimitPerMinute: number;
  /**
   * True when a bearer token is a configured API key. Only a known key gets a bucket of its own;
   * any other request is counted by client IP, so inventing tokens does not buy a fresh limit.
   * Without it every bearer token keys its own bucket.
   */
  readonly isApiKey?: (token: string) => boolean;
  /** Shed load when the event loop lags more than this (ms). Default 1000. */
  readonly maxEventLoopDelay?: number;
  /** An extra health probe for load shedding: while it answers false, requests get 503. */
  readonly healthCheck?: () => Promise<boolean>;
  /** How often `healthCheck` runs (ms). Default 5000. */
  readonly healthCheckInterval?: number;
  /** Retry-After (seconds) on a 503. Default 10. */
  readonly retryAfterSeconds?: number;
}

/** Probes and scrapes: never rate limited. */
export const RATE_LIMIT_EXEMPT = new Set(['/healthz', '/readyz', '/metrics']);
/** Still answered while shedding load: liveness (a restart would not help) and the scrape that shows why. */
export const LOAD_SHEDDING_EXEMPT = new Set(['/healthz', '/metrics']);

const sha256 = (text: string, encoding: 'hex' | 'base64') =>
  createHash('sha256').update(text).digest(encoding);

function bearerToken(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/**
 * Where a NUL character hides in a request part, e.g. `body.customer.name`. PostgreSQL cannot store
 * one in text or jsonb, and no field of this API needs one, so it is refused up front.
 */
export function findNulCharacter(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    if (key.includes('\u0000')) return path;
    const found = findNulCharacter(child, childPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * States `refuseNulCharacters` in a request part's JSON Schema, for the OpenAPI document: no string
 * holds a NUL character. Generated clients, and Schemathesis, then know that such a string is refused.
 */
export function declareNoNulCharacters(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(declareNoNulCharacters);
  if (schema === null || typeof schema !== 'object') return;
  const node = schema as Record<string, unknown>;
  if (node.type === 'string' && node.enum === undefined) node.not = { pattern: '\\u0000' };
  for (const keyword of ['items', 'additionalProperties', 'anyOf', 'allOf', 'oneOf']) {
    declareNoNulCharacters(node[keyword]);
  }
  if (node.properties) Object.values(node.properties as object).forEach(declareNoNulCharacters);
}

/**
 * A `preValidation` hook for the scope whose input reaches PostgreSQL (`/v1`): a NUL character in a
 * path parameter, the query string or the body is a 400 naming where it is.
 */
export async function refuseNulCharacters(request: FastifyRequest): Promise<void> {
  const where =
    findNulCharacter(request.params, 'params') ??
    findNulCharacter(request.query, 'querystring') ??
    findNulCharacter(request.body, 'body');
  if (where) throw new Problem(400, 'Invalid request', `${where}: must not contain NUL characters`);
}

async function hardening(app: FastifyInstance, options: HardeningOptions): Promise<void> {
  // Helmet's defaults, including its Content-Security-Policy, on every response.
  await app.register(helmet);

  const retryAfterSeconds = options.retryAfterSeconds ?? 10;
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelay ?? 1000,
    ...(options.healthCheck && {
      healthCheck: options.healthCheck,
      healthCheckInterval: options.healthCheckInterval ?? 5000,
    }),
    // A resolved promise lets the request through; a rejected one goes to the problem handler.
    pressureHandler: async (request, reply) => {
      if (LOAD_SHEDDING_EXEMPT.has(request.routeOptions.url ?? '')) return;
      reply.header('retry-after', String(retryAfterSeconds));
      throw new Problem(503, 'Service Unavailable', 'the server is overloaded; retry shortly');
    },
  });

  const isApiKey = options.isApiKey ?? (() => true);
  await app.register(rateLimit, {
    // Not per route: route hooks run after the `/v1` scope's authentication, so a guessed key was
    // answered 401 before it was ever counted. One hook at the root counts every request first.
    global: false,
    max: options.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => {
      const token = bearerToken(request);
      return token && isApiKey(token) ? `key:${sha256(token, 'hex')}` : `ip:${request.ip}`;
    },
    allowList: (request) => RATE_LIMIT_EXEMPT.has(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, context) =>
      new Problem(
        context.statusCode,
        'Too Many Requests',
        `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`,
      ),
  });
  app.addHook('onRequest', app.rateLimit());
}

export const hardeningPlugin = fp(hardening, { name: 'aftercare-hardening', fastify: '5.x' });

export interface ApiCorsOptions {
  /** Allowed browser origins; empty: no CORS headers at all. */
  readonly origins: readonly string[];
}

/**
 * CORS for the scope it is registered in (the `/v1` API), not app-wide: `/codec` has its own.
 * Register it before the scope's authentication hook, so a preflight (which carries no key) is
 * answered before authentication.
 */
export const apiCorsPlugin = fp(
  async (app: FastifyInstance, { origins }: ApiCorsOptions) => {
    if (origins.length === 0) return;
    await app.register(cors, {
      origin: [...origins],
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: [
        'location',
        'idempotent-replayed',
        'x-request-id',
        'retry-after',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
      ],
      credentials: false,
      maxAge: 600,
    });
  },
  { name: 'aftercare-api-cors', fastify: '5.x' },
);
