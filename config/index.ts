import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { DEFAULT_DELIVERY_RULES, type DeliveryRules } from '../domain/delivery-rules';
import { parseDuration } from '../domain/durations';
import type { SlaPolicy } from '../domain/policy';
import { ROLES, type Actor } from '../domain/ticket';
import type { WebhookTargetPolicy } from '../domain/webhook-target';
import type { EncryptionKey } from '../temporal/codec';
import { loadPolicy } from './policy-file';

/**
 * Configuration, read once from the environment and validated: API and worker share it. A bad value
 * stops start-up with a message that names the variable.
 */
export const DEV_ADMIN_KEY = 'dev-admin-key';

/**
 * Development stand-ins for the secrets production must configure: known to everyone who reads
 * this file, so `NODE_ENV=production` refuses to start with them.
 */
const DEV_PAYLOAD_KEY: EncryptionKey = {
  id: 'dev',
  key: createHash('sha256').update('aftercare development payload key').digest(),
};
const DEV_CUSTOMER_ID_SECRET = 'aftercare-development-customer-id-secret';

/** Production secrets are at least this long: `openssl rand -hex 32` gives 64 characters. */
const MIN_PRODUCTION_SECRET_LENGTH = 32;
/** Words of a placeholder (`.env.example` once shipped `replace-with-a-long-random-key`). */
const PLACEHOLDER = /replace|change-?me|placeholder|example/i;
const GENERATE_HINT = 'generate secrets with `sh deploy/generate-env.sh`';

/**
 * Why a secret must not be used in production, or undefined when it may. The reason never quotes
 * the secret. Random text of 32 characters or more has far more than 8 distinct characters.
 */
function weakSecret(text: string, developmentValue: string): string | undefined {
  if (text === developmentValue) return 'is the public development default';
  if (PLACEHOLDER.test(text)) return 'is a placeholder, not a secret';
  if (text.length < MIN_PRODUCTION_SECRET_LENGTH) {
    return `is ${text.length} characters; production needs at least ${MIN_PRODUCTION_SECRET_LENGTH} random characters`;
  }
  if (new Set(text).size < 8) return 'repeats a few characters instead of being random';
  return undefined;
}

/** True for addresses only this machine reaches: 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  return isIP(host) !== 0 && ipaddr.process(host).range() === 'loopback';
}

/** Names proxy-addr accepts for TRUST_PROXY besides addresses and CIDR ranges. */
const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (TRUST_PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * TRUST_PROXY: which peers' X-Forwarded-For the API believes (client IP for rate limits and logs).
 * Unset: none, the TCP peer is the client. A number: that many proxy hops in front of the API. A
 * list: the proxies' addresses or CIDR ranges (or loopback, linklocal, uniquelocal).
 */
const trustProxySchema = z
  .string()
  .trim()
  .default('')
  .transform((text, context): false | number | string[] => {
    if (text === '' || text === 'false') return false;
    if (/^\d+$/.test(text)) {
      const hops = Number(text);
      if (hops >= 1 && hops <= 10) return hops;
    } else {
      const entries = text
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      if (entries.length > 0 && entries.every(isAddressOrRange)) return entries;
    }
    context.addIssue({
      code: 'custom',
      message:
        'must be false, a number of proxy hops (1-10), or comma-separated proxy addresses / CIDR ranges (e.g. 10.0.0.0/8, loopback); true is not accepted because it lets any client choose its own IP',
    });
    return z.NEVER;
  });

const apiKeyEntry = z
  .string()
  .regex(/^[^:\s]{8,}:[a-z]+:[^:\s]+$/, 'entries are key:role:actorId with a key of at least 8 characters')
  .transform((entry) => {
    const [key, role, actorId] = entry.split(':') as [string, string, string];
    return { key, role, actorId };
  })
  .refine((entry) => (ROLES as readonly string[]).includes(entry.role), {
    message: `the role must be one of ${ROLES.join(', ')}`,
  });

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => value || undefined);

/** `ip:port` as the worker's Prometheus exporter binds it: an IP literal (IPv6 in brackets), no host name. */
function isSocketAddress(value: string): boolean {
  const match = /^(?:\[([^\]]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const port = Number(match[3]);
  const ipv6 = match[1];
  const ipv4 = match[2];
  const validHost = ipv6 !== undefined ? isIP(ipv6) === 6 : isIP(ipv4 ?? '') === 4;
  return validHost && port >= 1 && port <= 65535;
}

/** An `ip:port` already checked by `isSocketAddress`, as `listen` takes it (IPv6 without brackets). */
function listenAddress(value: string): { host: string; port: number } {
  const separator = value.lastIndexOf(':');
  return {
    host: value.slice(0, separator).replace(/^\[|\]$/g, ''),
    port: Number(value.slice(separator + 1)),
  };
}

/** A wall-clock duration such as `10s`, `1h`, `25h`, in milliseconds. */
function wallDuration(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((text, context) => {
      const parsed = parseDuration(text);
      if (parsed?.kind === 'wall') return parsed.ms;
      context.addIssue({
        code: 'custom',
        message: `"${text}" is not a wall-clock duration such as 10s, 30m or 25h`,
      });
      return z.NEVER;
    });
}

const CRON_PATTERN = /^[\d*,/-]+( [\d*,/-]+){4}$/;

/** Every environment variable Aftercare reads (their names are what deployments may set). */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Loopback unless set: the container image sets HOST=0.0.0.0 (see Dockerfile).
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  TRUST_PROXY: trustProxySchema,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection URL')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('aftercare-tickets'),
  TEMPORAL_TLS_CERT_PATH: optionalText,
  TEMPORAL_TLS_KEY_PATH: optionalText,
  TEMPORAL_TLS_CA_PATH: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  TEMPORAL_API_KEY: optionalText,
  API_KEYS: optionalText,
  SLA_POLICY_FILE: optionalText,
  PAYLOAD_ENCRYPTION_KEYS: optionalText,
  PAYLOAD_ENCRYPTION_KEY_ID: optionalText,
  CUSTOMER_ID_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  CODEC_CORS_ORIGINS: z.string().default('http://localhost:8233,http://localhost:8080'),
  CODEC_SESSION_TTL: wallDuration('8h'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  ACTION_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  CORS_ORIGINS: z
    .string()
    .default('')
    .refine(
      (value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean)
          .every((origin) => URL.canParse(origin) && new URL(origin).origin === origin),
      {
        message: 'must be comma-separated origins like https://crm.example.com (scheme, host, port; no path)',
      },
    ),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(300),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).default(40),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(50),
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(20),
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(16),
  WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION: z.coerce.number().int().min(1).max(100).default(8),
  WEBHOOK_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(1_000).default(20),
  WEBHOOK_TIMEOUT: wallDuration('10s'),
  DELIVERY_RETRY_WINDOW: wallDuration('25h'),
  WEBHOOK_PAUSE_AFTER_FAILURES: z.coerce.number().int().min(1).max(100_000).default(20),
  WEBHOOK_PAUSE_AFTER: wallDuration('1h'),
  IDEMPOTENCY_KEY_TTL: wallDuration('24h'),
  RETENTION_CLOSED_TICKETS: wallDuration('1095d'),
  RETENTION_DELIVERIES: wallDuration('30d'),
  RETENTION_SCHEDULE: z
    .string()
    .trim()
    .default('0 3 * * *')
    .refine((value) => parseDuration(value)?.kind === 'wall' || CRON_PATTERN.test(value), {
      message: 'must be a cron expression of five fields (e.g. "0 3 * * *") or an interval such as 6h',
    }),
  WEBHOOK_ALLOW_LOOPBACK: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  WORKER_METRICS_ADDRESS: z
    .string()
    .trim()
    .default('127.0.0.1:9464')
    .refine((value) => value === 'off' || isSocketAddress(value), {
      message: 'must be ip:port (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::]:9464) or off',
    }),
  API_METRICS_ADDRESS: optionalText.refine((value) => value === undefined || isSocketAddress(value), {
    message: 'must be ip:port (e.g. 127.0.0.1:9465, 0.0.0.0:9465, [::]:9465), or unset for /metrics on PORT',
  }),
  METRICS_CACHE: wallDuration('15s'),
  REPORT_TIMEOUT: wallDuration('15s'),
  REPORT_CONCURRENCY: z.coerce.number().int().min(1).max(8).default(2),
  REPORT_QUEUE: z.coerce.number().int().min(0).max(100).default(4),
  /** Scrapping and stock-take adjustments worth more than this many fen wait for a manager. */
  PARTS_APPROVAL_THRESHOLD: z.coerce.number().int().min(0).max(1_000_000_000).default(100_000),
});

export interface ApiKey {
  readonly key: string;
  readonly actor: Actor;
}

export interface TemporalSettings {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string };
  readonly apiKey?: string;
}

export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly logLevel: string;
  readonly host: string;
  readonly port: number;
  /** Fastify's trustProxy: false, a hop count, or the proxies' addresses (see TRUST_PROXY). */
  readonly trustProxy: false | number | string[];
  readonly databaseUrl: string | undefined;
  readonly temporal: TemporalSettings;
  readonly apiKeys: readonly ApiKey[];
  /** True when the documented dev-admin-key is in use (API_KEYS unset in development, or set to it). */
  readonly usingDevAdminKey: boolean;
  readonly policy: SlaPolicy;
  /**
   * The first key encrypts (PAYLOAD_ENCRYPTION_KEY_ID's, or the first listed); all of them decrypt.
   */
  readonly payloadKeys: readonly EncryptionKey[];
  /** Keys the CustomerId search attribute: a hash operators can filter by, never the phone. */
  readonly customerIdSecret: string;
  /** Origins (Temporal UI) allowed to call the codec endpoint from a browser. */
  readonly codecCorsOrigins: readonly string[];
  /** How long a browser's codec sign-in lasts. */
  readonly codecSessionTtlMs: number;
  /** Requests per minute one API key (or, without a key, one client IP) may make. */
  readonly rateLimitPerMinute: number;
  /** Event-loop delay above which the API sheds load (503 with Retry-After); 0 never sheds. */
  readonly maxEventLoopDelayMs: number;
  /** Browser origins allowed to call `/v1`; empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Where the worker serves its Temporal SDK metrics (`ip:port`); undefined when `off`. */
  readonly workerMetricsAddress: string | undefined;
  /** `/metrics` of the API on a listener of its own instead of `PORT`; undefined: on `PORT`. */
  readonly apiMetricsAddress: { readonly host: string; readonly port: number } | undefined;
  /** How long the business counters of `/metrics` are reused before PostgreSQL is asked again. */
  readonly metricsCacheMs: number;
  readonly reports: ReportSettings;
  /** Scrap and stock-take adjustments worth more than this (fen, at unit cost) need a manager's approval. */
  readonly partsApprovalThresholdFen: number;
  /** Worker sizing: cache, concurrency, shutdown grace (see `WorkerTuning`). */
  /** How long an action waits for the ticket's workflow to answer before it is a 503. */
  readonly actionTimeoutMs: number;
  readonly worker: WorkerTuning;
  readonly delivery: DeliverySettings;
  readonly retention: RetentionSettings;
}

/** What is kept how long (see temporal/retention.ts). */
export interface RetentionSettings {
  /** An Idempotency-Key's claim lasts this long. */
  readonly idempotencyTtlMs: number;
  /** Closed and cancelled tickets lose their personal data this long after their last change. */
  readonly closedTicketsMs: number;
  /** Delivered and failed deliveries are deleted this long after they were queued. */
  readonly deliveriesMs: number;
  /** When the retention run starts: a five-field cron expression or an interval. */
  readonly schedule: { readonly cron: string } | { readonly everyMs: number };
}

/**
 * Reports are the heaviest reads: `concurrency` are built at once (each holds one of the pool's
 * connections for its nine queries), `queue` more wait, the rest are refused; a build that runs
 * past `timeoutMs` is cancelled by PostgreSQL.
 */
export interface ReportSettings {
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly queue: number;
}

/** The delivery relay's sizing and the rules it treats receivers by (see domain/delivery-rules.ts). */
export interface DeliverySettings {
  readonly notificationConcurrency: number;
  readonly perSubscription: number;
  /** Active webhook subscriptions at most: each may hold `perSubscription` sockets of every relay. */
  readonly maxSubscriptions: number;
  readonly webhookTimeoutMs: number;
  /** Where webhooks may go: public addresses only (loopback too with WEBHOOK_ALLOW_LOOPBACK); https in production. */
  readonly webhookTargets: WebhookTargetPolicy;
  readonly rules: DeliveryRules;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseApiKeys(raw: string | undefined, env: AppConfig['env']): { keys: ApiKey[]; dev: boolean } {
  if (!raw) {
    if (env === 'production') throw new ConfigError('API_KEYS: required when NODE_ENV=production');
    return { keys: [{ key: DEV_ADMIN_KEY, actor: { id: 'dev-admin', role: 'admin' } }], dev: true };
  }
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const keys = entries.map((entry, index) => {
    const parsed = apiKeyEntry.safeParse(entry);
    if (!parsed.success) {
      throw new ConfigError(`API_KEYS: entry ${index + 1} is invalid: ${parsed.error.issues[0]?.message}`);
    }
    const { key, role, actorId } = parsed.data;
    return { key, actor: { id: actorId, role: role as Actor['role'] } };
  });
  if (new Set(keys.map((entry) => entry.key)).size !== keys.length) {
    throw new ConfigError('API_KEYS: the same key appears twice');
  }
  if (env === 'production') {
    keys.forEach((entry, index) => {
      const weakness = weakSecret(entry.key, DEV_ADMIN_KEY);
      if (weakness) {
        throw new ConfigError(
          `API_KEYS: the key of entry ${index + 1} ${weakness} (NODE_ENV=production; ${GENERATE_HINT})`,
        );
      }
    });
  }
  return { keys, dev: keys.some((entry) => entry.key === DEV_ADMIN_KEY) };
}

/**
 * The payload keys, the encrypting one first. Rotating without breaking a rolling restart takes two
 * roll-outs: first every process learns the new key while the old one still encrypts
 * (`PAYLOAD_ENCRYPTION_KEY_ID` names the old), then the new one becomes the encrypting key — so no
 * process ever meets a payload sealed with a key it does not know. Without the id, the first listed
 * key encrypts.
 */
function parsePayloadKeys(
  raw: string | undefined,
  activeId: string | undefined,
  env: AppConfig['env'],
): EncryptionKey[] {
  if (!raw) {
    if (env === 'production')
      throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS: required when NODE_ENV=production');
    if (activeId !== undefined) {
      throw new ConfigError('PAYLOAD_ENCRYPTION_KEY_ID: set PAYLOAD_ENCRYPTION_KEYS with that key too');
    }
    return [DEV_PAYLOAD_KEY];
  }
  const keys = raw.split(',').map((entry, index) => {
    const match = /^([A-Za-z0-9_.-]{1,64}):([A-Za-z0-9+/=]+)$/.exec(entry.trim());
    const key = match ? Buffer.from(match[2] ?? '', 'base64') : undefined;
    if (!match?.[1] || key?.length !== 32) {
      throw new ConfigError(
        `PAYLOAD_ENCRYPTION_KEYS: entry ${index + 1} must be keyId:base64 of 32 random bytes (openssl rand -base64 32)`,
      );
    }
    const weakness = env === 'production' ? weakPayloadKey(key, match[2] ?? '') : undefined;
    if (weakness) {
      throw new ConfigError(
        `PAYLOAD_ENCRYPTION_KEYS: entry ${index + 1} ${weakness} (NODE_ENV=production; ${GENERATE_HINT})`,
      );
    }
    return { id: match[1], key };
  });
  if (new Set(keys.map((entry) => entry.id)).size !== keys.length) {
    throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS: the same key id appears twice');
  }
  if (activeId === undefined) return keys;
  const active = keys.find((entry) => entry.id === activeId);
  if (!active) {
    throw new ConfigError(
      `PAYLOAD_ENCRYPTION_KEY_ID: "${activeId}" is not a key id of PAYLOAD_ENCRYPTION_KEYS (${keys.map((entry) => entry.id).join(', ')})`,
    );
  }
  return [active, ...keys.filter((entry) => entry !== active)];
}

/** Why 32 decoded key bytes must not encrypt production payloads (32 random bytes have ~30 distinct values). */
function weakPayloadKey(key: Buffer, base64: string): string | undefined {
  if (key.equals(DEV_PAYLOAD_KEY.key)) return 'is the public development key';
  if (PLACEHOLDER.test(base64)) return 'is a placeholder, not a key';
  if (new Set(key).size < 16) return 'is not random bytes (too few distinct byte values)';
  return undefined;
}

function temporalTls(env: z.infer<typeof envSchema>): TemporalSettings['tls'] {
  const { TEMPORAL_TLS_CERT_PATH: certPath, TEMPORAL_TLS_KEY_PATH: keyPath } = env;
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new ConfigError('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: set both for mTLS, or neither');
  }
  const tls = {
    certPath,
    keyPath,
    caPath: env.TEMPORAL_TLS_CA_PATH,
    serverName: env.TEMPORAL_TLS_SERVER_NAME,
  };
  const anySet = Object.values(tls).some(Boolean) || Boolean(env.TEMPORAL_API_KEY);
  return anySet ? tls : undefined;
}

/** Loopback receivers are for development and tests: production refuses to start with them allowed. */
function webhookTargets(allowLoopback: boolean, env: AppConfig['env']): WebhookTargetPolicy {
  if (allowLoopback && env === 'production') {
    throw new ConfigError(
      'WEBHOOK_ALLOW_LOOPBACK: may not be true when NODE_ENV=production (loopback receivers are for development)',
    );
  }
  return { allowLoopback, requireHttps: env === 'production' };
}

function customerIdSecret(raw: string | undefined, env: AppConfig['env']): string {
  if (!raw) {
    if (env === 'production') throw new ConfigError('CUSTOMER_ID_SECRET: required when NODE_ENV=production');
    return DEV_CUSTOMER_ID_SECRET;
  }
  const weakness = env === 'production' ? weakSecret(raw, DEV_CUSTOMER_ID_SECRET) : undefined;
  if (weakness) {
    throw new ConfigError(`CUSTOMER_ID_SECRET: ${weakness} (NODE_ENV=production; ${GENERATE_HINT})`);
  }
  return raw;
}

/**
 * The development stand-ins are public (they are in this file), so they may only serve this
 * machine: on any other HOST, start-up stops and names the variables to set.
 */
function refuseExposedDevelopmentSecrets(
  host: string,
  inUse: { API_KEYS: boolean; PAYLOAD_ENCRYPTION_KEYS: boolean; CUSTOMER_ID_SECRET: boolean },
): void {
  if (isLoopbackHost(host)) return;
  const names = Object.entries(inUse)
    .filter(([, used]) => used)
    .map(([name]) => name);
  if (names.length === 0) return;
  throw new ConfigError(
    `HOST: ${host} is reachable from other machines, but ${names.join(', ')} ${names.length === 1 ? 'uses its' : 'use their'} public development default; set ${names.length === 1 ? 'it' : 'them'} (${GENERATE_HINT}) or listen on 127.0.0.1`,
  );
}

function retentionSchedule(text: string): RetentionSettings['schedule'] {
  const interval = parseDuration(text);
  return interval?.kind === 'wall' ? { everyMs: interval.ms } : { cron: text };
}

/** `nowMs` is the start-up instant: the SLA policy's statutory days start with its year. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, nowMs = Date.now()): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${issue?.path.join('.')}: ${issue?.message}`);
  }
  const env = parsed.data;
  const apiKeys = parseApiKeys(env.API_KEYS, env.NODE_ENV);
  const payloadKeys = parsePayloadKeys(
    env.PAYLOAD_ENCRYPTION_KEYS,
    env.PAYLOAD_ENCRYPTION_KEY_ID,
    env.NODE_ENV,
  );
  const idSecret = customerIdSecret(env.CUSTOMER_ID_SECRET, env.NODE_ENV);
  refuseExposedDevelopmentSecrets(env.HOST, {
    API_KEYS: apiKeys.dev,
    PAYLOAD_ENCRYPTION_KEYS: payloadKeys.some((entry) => entry.key.equals(DEV_PAYLOAD_KEY.key)),
    CUSTOMER_ID_SECRET: idSecret === DEV_CUSTOMER_ID_SECRET,
  });
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    host: env.HOST,
    port: env.PORT,
    trustProxy: env.TRUST_PROXY,
    databaseUrl: env.DATABASE_URL,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      tls: temporalTls(env),
      apiKey: env.TEMPORAL_API_KEY,
    },
    apiKeys: apiKeys.keys,
    usingDevAdminKey: apiKeys.dev,
    policy: loadPolicy(env.SLA_POLICY_FILE, nowMs),
    payloadKeys,
    customerIdSecret: idSecret,
    codecCorsOrigins: env.CODEC_CORS_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    codecSessionTtlMs: env.CODEC_SESSION_TTL,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
    actionTimeoutMs: env.ACTION_TIMEOUT_SECONDS * 1000,
    corsOrigins: env.CORS_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    workerMetricsAddress: env.WORKER_METRICS_ADDRESS === 'off' ? undefined : env.WORKER_METRICS_ADDRESS,
    apiMetricsAddress: env.API_METRICS_ADDRESS ? listenAddress(env.API_METRICS_ADDRESS) : undefined,
    metricsCacheMs: env.METRICS_CACHE,
    reports: {
      timeoutMs: env.REPORT_TIMEOUT,
      concurrency: env.REPORT_CONCURRENCY,
      queue: env.REPORT_QUEUE,
    },
    partsApprovalThresholdFen: env.PARTS_APPROVAL_THRESHOLD,
    worker: {
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTaskExecutions: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivityTaskExecutions: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      shutdownGraceSeconds: env.WORKER_SHUTDOWN_GRACE_SECONDS,
    },
    delivery: {
      notificationConcurrency: env.DELIVERY_CONCURRENCY,
      perSubscription: env.WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION,
      maxSubscriptions: env.WEBHOOK_MAX_SUBSCRIPTIONS,
      webhookTimeoutMs: env.WEBHOOK_TIMEOUT,
      webhookTargets: webhookTargets(env.WEBHOOK_ALLOW_LOOPBACK, env.NODE_ENV),
      rules: {
        ...DEFAULT_DELIVERY_RULES,
        retryWindowMs: env.DELIVERY_RETRY_WINDOW,
        disableAfterFailures: env.WEBHOOK_PAUSE_AFTER_FAILURES,
        disableAfterMs: env.WEBHOOK_PAUSE_AFTER,
      },
    },
    retention: {
      idempotencyTtlMs: env.IDEMPOTENCY_KEY_TTL,
      closedTicketsMs: env.RETENTION_CLOSED_TICKETS,
      deliveriesMs: env.RETENTION_DELIVERIES,
      schedule: retentionSchedule(env.RETENTION_SCHEDULE),
    },
  };
}

/**
 * Worker sizing. The cache holds 300 ticket workflows: a ticket whose timer fires while it is cached
 * takes one short workflow task, one that was evicted replays its history first (in the storm of
 * `npm run bench`, 10 tickets/s each climbing three levels 6 s apart, a cache of 100 made most
 * escalations replays: worker CPU 41 % against 22 % with 500, lateness p99 3.4 s against 0.8 s). A
 * cached workflow costs about 0.3 MiB (measured by `npm run bench`, see docs/benchmarks.md). 40 concurrent workflow
 * tasks and 50 local activities keep PostgreSQL's pool (10 connections) busy without queueing inside
 * the process; 20 s of grace lets in-flight activities (30 s timeouts, mostly < 100 ms) finish before
 * a rolling restart's SIGKILL.
 */
export interface WorkerTuning {
  readonly maxCachedWorkflows: number;
  readonly maxConcurrentWorkflowTaskExecutions: number;
  readonly maxConcurrentActivityTaskExecutions: number;
  readonly shutdownGraceSeconds: number;
}

/** The database URL, which the API and the worker cannot run without. */
export function requireDatabaseUrl(config: AppConfig): string {
  if (!config.databaseUrl) {
    throw new ConfigError(
      'DATABASE_URL: required (e.g. postgres://user:pass@localhost:5432/aftercare); `npm run dev` sets it for you',
    );
  }
  return config.databaseUrl;
}
