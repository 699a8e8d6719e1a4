import { prettyFactory } from 'pino-pretty';
import { PRETTY_OPTIONS } from '../logger';

/**
 * The console of `npm run dev`: the worker, the relay and the API write JSON (their stdout is a
 * pipe), and the supervisor prints each event as one readable line prefixed with the process it
 * came from, so two processes' output interleaved still says who said what. What is not a pino
 * event (a crash's stack trace, a start-up failure) is printed as it came, with the same prefix.
 */
export type ConsoleRole = 'dev' | 'worker' | 'worker-1' | 'worker-2' | 'relay' | 'api';

/**
 * The Temporal SDK's context on each of its events (those with an `sdkComponent`), which the console
 * leaves out (the JSON keeps it): the workflow id and the message say enough while developing.
 */
const SDK_CONTEXT = [
  'sdkComponent',
  'taskQueue',
  'namespace',
  'taskToken',
  'isLocal',
  'activityId',
  'activityType',
  'workflowRunId',
  'workflowType',
];

/** A pino event as an object (the SDK's without its context), or undefined for any other line. */
function parseEvent(line: string): Record<string, unknown> | undefined {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  if (!('sdkComponent' in event)) return event as Record<string, unknown>;
  return Object.fromEntries(Object.entries(event).filter(([key]) => !SDK_CONTEXT.includes(key)));
}

const foldLines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' | ');

export function consoleFormatter(options: {
  readonly colorize: boolean;
  /** The roles that will print, so their prefixes line up (npm run cluster adds worker-1 and worker-2). */
  readonly roles?: readonly ConsoleRole[];
}) {
  const width =
    Math.max(...(options.roles ?? ['dev', 'worker', 'relay', 'api']).map((role) => role.length)) + 3;
  const pretty = prettyFactory({
    ...PRETTY_OPTIONS,
    // The prefix names the process: the logger's own name would say it twice.
    ignore: 'pid,hostname,name',
    // The time without pino-pretty's brackets: the prefix has them.
    customPrettifiers: { time: (time) => String(time) },
    // A message of several lines (the SDK logs webpack's report as one) on one line.
    messageFormat: (log, messageKey) => {
      const message = log[messageKey];
      return typeof message === 'string' ? foldLines(message) : '';
    },
    colorize: options.colorize,
  });
  /** The text to print for one line of a role's output: '' for a blank line. */
  return (role: ConsoleRole, line: string): string => {
    if (line.trim() === '') return '';
    const prefix = `[${role}]`.padEnd(width);
    const event = parseEvent(line);
    return (event ? pretty(event) : line)
      .replace(/\n+$/, '')
      .split('\n')
      .map((part) => `${prefix}${part}\n`)
      .join('');
  };
}
