import pino, { type Logger } from 'pino';

/** Personal data never reaches a log line in clear text. */
export const REDACTED_PATHS = [
  '*.customer.name',
  '*.customer.phone',
  '*.customer.email',
  '*.customer.address',
  'customer.name',
  'customer.phone',
  'customer.email',
  'customer.address',
  'req.headers.authorization',
];

export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    transport: process.stdout.isTTY ? { target: 'pino-pretty', options: { colorize: true } } : undefined,
  });
}
