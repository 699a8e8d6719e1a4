import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../../temporal/binaries';

/**
 * `npm run dev` (and `npm run cluster`, its `--cluster` mode) as a user runs it: the supervisor as a
 * child process with its output collected, for the tests that start the whole product.
 */
export interface DevProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  output(): string;
  waitFor(text: string, timeoutMs: number): Promise<void>;
  /** SIGTERM, as Ctrl-C's orderly stop; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function startDev(args: string[], env: Record<string, string>): DevProcess {
  const {
    DATABASE_URL: _database,
    TEMPORAL_ADDRESS: _temporal,
    API_KEYS: _keys,
    SLA_POLICY_FILE: _policy,
    ...inherited
  } = process.env;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'dev/main.ts'), ...args],
    {
      cwd: PROJECT_ROOT,
      // As `npm run dev` runs: development mode, its output a pipe (no colours).
      env: {
        ...inherited,
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        WORKER_METRICS_ADDRESS: 'off',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const watchers = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    watchers.forEach((watch) => watch());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    waitFor: (text, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${output.slice(-3000)}`)),
          timeoutMs,
        );
        const watch = () => {
          if (!output.includes(text)) return;
          clearTimeout(timer);
          watchers.delete(watch);
          resolve();
        };
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`npm run dev exited (${code}) before "${text}":\n${output.slice(-3000)}`));
        });
        watchers.add(watch);
        watch();
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(90_000).then(() => 'timeout' as const)]);
      if (code !== 'timeout') return code;
      child.kill('SIGKILL');
      throw new Error(`npm run dev did not stop within 90 s of SIGTERM:\n${output.slice(-3000)}`);
    },
  };
}
