import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleFormatter } from '../../dev/console';
import { PROJECT_ROOT } from '../../temporal/binaries';

/** The lines a worker process writes to a pipe (as under `npm run dev`) in the given mode. */
function workerOutput(nodeEnv: 'development' | 'production'): string[] {
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/fixtures/log-lines.ts')],
    { cwd: PROJECT_ROOT, env: { ...process.env, NODE_ENV: nodeEnv }, encoding: 'utf8' },
  );
  return output.split('\n').filter(Boolean);
}

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;

describe('the development console', () => {
  const format = consoleFormatter({ colorize: false });

  it('prints each event of a role as one readable line, prefixed with the role', () => {
    const [running, bundled, failed] = workerOutput('development').map((line) => format('worker', line));
    expect(running).toMatch(
      new RegExp(`^\\[worker\\] ${TIME} INFO: worker running \\{"taskQueue":"aftercare-tickets"\\}\\n$`),
    );
    // The SDK's: a message of several lines on one, without the SDK's context fields.
    expect(bundled).toMatch(
      new RegExp(
        `^\\[worker\\] ${TIME} INFO: asset workflow-bundle.js 5.16 MiB \\| modules by path ./ 94.1 KiB \\| webpack compiled\\n$`,
      ),
    );
    // An error: the event on one line, the error's stack below it, every line prefixed.
    const [first, ...stack] = failed!.trimEnd().split('\n');
    expect(first).toMatch(
      new RegExp(`^\\[worker\\] ${TIME} WARN: Activity failed \\{"workflowId":"ticket-WO20261203-001"\\}$`),
    );
    expect(stack.join('\n')).toContain('PostgreSQL went away');
    expect(stack.every((line) => line.startsWith('[worker] '))).toBe(true);
  });

  it('lines up the roles and keeps what is not an event as it came', () => {
    expect(format('api', 'api failed to start: DATABASE_URL: required')).toBe(
      '[api]    api failed to start: DATABASE_URL: required\n',
    );
    expect(format('dev', 'migrations applied')).toBe('[dev]    migrations applied\n');
    expect(format('relay', '   ')).toBe('');
    // npm run cluster's two workers: every prefix as wide as theirs.
    const cluster = consoleFormatter({
      colorize: false,
      roles: ['dev', 'worker-1', 'worker-2', 'relay', 'api'],
    });
    expect(cluster('api', 'ready')).toBe('[api]      ready\n');
    expect(cluster('worker-2', 'ready')).toBe('[worker-2] ready\n');
  });

  it('production stays JSON: one object per event, the SDK error serialized, nothing below the level', () => {
    const lines = workerOutput('production');
    expect(lines).toHaveLength(3);
    const [running, bundled, failed] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(running).toMatchObject({ level: 30, name: 'worker', msg: 'worker running' });
    expect(bundled).toMatchObject({ level: 30, sdkComponent: 'worker', taskQueue: 'aftercare-tickets' });
    expect(bundled?.msg).toContain('\n  modules by path');
    expect(failed).toMatchObject({
      level: 40,
      msg: 'Activity failed',
      sdkComponent: 'activity',
      error: { type: 'Error', message: 'PostgreSQL went away', stack: expect.stringContaining('Error') },
    });
  });
});
