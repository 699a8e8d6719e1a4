import pino, { type Logger } from 'pino';

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

export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    transport: process.stdout.isTTY ? { target: 'pino-pretty', options: { colorize: true } } : undefined,
  });
}
