import pino, { type Logger, type TransportSingleOptions } from 'pino';

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
    return { target: (options.resolve ?? require.resolve)('pino-pretty'), options: { colorize: true } };
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
    transport: prettyTransport({
      env: options.env ?? process.env.NODE_ENV ?? 'development',
      isTTY: process.stdout.isTTY === true,
    }),
  });
}
