import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { RuntimeOptions } from '@temporalio/worker';
import pino, { type Level, type Logger, type TransportSingleOptions } from 'pino';

/** Personal data never reaches a log line in clear text. */
export const REDACTED_PATHS = [
  '*.customer.name',
  '*.customer.phone',
  '*.customer.email',
  '*.customer.address',
  '*.customer.location',
  'customer.name',
  'customer.phone',
  'customer.email',
  'customer.address',
  'customer.location',
  'req.headers.authorization',
  // Webhook signing secrets, wherever an object carrying one is logged.
  'secret',
  '*.secret',
];

/**
 * How pino-pretty shows an event to a developer: one line (its fields as compact JSON at the end, an
 * error's stack below it), the local time of day, no process id or host name.
 */
export const PRETTY_OPTIONS = {
  singleLine: true,
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname',
} as const;

/**
 * Pretty, coloured lines for a developer's terminal: only in development mode, on a TTY, and when
 * `pino-pretty` (a dev dependency, pruned from the image) resolves. Production never loads it, so
 * `docker run -t` prints JSON instead of crashing on the missing module.
 */
export function prettyTransport(options: {
  readonly env: string;
  readonly isTTY: boolean;
  readonly resolve?: (id: string) => string;
}): TransportSingleOptions | undefined {
  if (options.env !== 'development' || !options.isTTY) return undefined;
  try {
    return {
      target: (options.resolve ?? require.resolve)('pino-pretty'),
      options: { ...PRETTY_OPTIONS, colorize: true },
    };
  } catch {
    return undefined;
  }
}

/** `env` is the configuration's NODE_ENV (unset means development, as in `loadConfig`). */
export function createLogger(options: { level: string; name: string; env?: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // The Temporal SDK puts errors under `error` (see temporalLogger); pino serializes only `err` by itself.
    serializers: { error: pino.stdSerializers.err },
    transport: prettyTransport({
      env: options.env ?? process.env.NODE_ENV ?? 'development',
      isTTY: process.stdout.isTTY === true,
    }),
  });
}

const PINO_LEVELS: Record<LogLevel, Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger on top of ours: the SDK's own messages (worker state, bundling, failed
 * activations) and workflow and activity logs become pino events like every other, instead of the
 * SDK's multi-line text on stderr.
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) =>
    logger[PINO_LEVELS[level]](meta, message);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * The Temporal Runtime's logging (`Runtime.install`, once per process, before any connection): the
 * SDK's logger is ours, and the Rust core's warnings, which it would print to the console itself,
 * are forwarded to it.
 */
export function temporalRuntimeLogging(logger: Logger) {
  return {
    logger: temporalLogger(logger),
    telemetryOptions: { logging: { forward: {} } },
  } satisfies RuntimeOptions;
}
