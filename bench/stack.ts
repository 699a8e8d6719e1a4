import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyMigrations } from '../db/migrate';
import { randomPostgresPort, startEmbeddedPostgres } from '../dev/embedded-postgres';
import { newClusterPasswords, randomServerPort, startClusterOn } from '../dev/temporal-cluster';
import { startTemporalDevServer } from '../dev/temporal-dev-server';
import { PROJECT_ROOT } from '../temporal/binaries';
import { TEMPORAL_SERVER_VERSION } from '../temporal/server-binaries';
import { loadConfig } from '../config';

/**
 * The benchmark's stack: an embedded PostgreSQL and a Temporal engine — the dev server (SQLite in WAL
 * mode with synchronous=OFF, as the SDK's own CI runs it) or, with `engine: 'cluster'`, the real
 * Temporal server on that PostgreSQL as `npm run cluster` runs it — unless DATABASE_URL /
 * TEMPORAL_ADDRESS point elsewhere, and the API, the worker and the delivery relay as separate
 * processes so their memory and CPU are their own.
 */
export type Engine = 'dev' | 'cluster';
export const ENGINES: readonly Engine[] = ['dev', 'cluster'];
export const BENCH_KEY = 'bench-admin-key-000001';

export interface BenchServices {
  /** `built`: the roles run the compiled code and workflow bundle of `npm run build`, as in the image. */
  readonly code: 'built' | 'source';
  /** Where each role writes a V8 CPU profile when it stops (`npm run bench -- --profile <dir>`). */
  readonly profileDir?: string;
  readonly databaseUrl: string;
  /** What PostgreSQL the run measured: `embedded, fsync off`, `embedded, fsync on` or `DATABASE_URL`. */
  readonly postgres: string;
  /** What Temporal the run measured: the dev server, the real server (cluster) or TEMPORAL_ADDRESS's. */
  readonly temporal: string;
  readonly temporalAddress: string;
  readonly taskQueue: string;
  readonly stop: () => Promise<void>;
}

/**
 * The embedded PostgreSQL's settings for a run. Without fsync by default: the counterpart of the dev
 * server's SQLite `synchronous=OFF` (a commit survives the server's crash, not the machine's; the
 * "non-durable settings" PostgreSQL's manual gives for throwaway data, and this data folder is
 * deleted when the run ends). With fsync, this machine's virtual disk puts 50–400 ms stalls into
 * commits; `--postgres-fsync` measures that.
 */
function postgresFlags(fsync: boolean): string[] {
  return fsync ? [] : ['-c', 'fsync=off'];
}

export async function startServices(
  code: BenchServices['code'],
  options: {
    profileDir?: string;
    postgresFsync?: boolean;
    engine?: Engine;
    /** The cluster's server settings, other than CLUSTER_TUNING's. */
    tuning?: Parameters<typeof startClusterOn>[2]['tuning'];
  } = {},
): Promise<BenchServices> {
  const { profileDir } = options;
  const engine = options.engine ?? 'dev';
  if (engine === 'cluster' && (process.env.DATABASE_URL || process.env.TEMPORAL_ADDRESS)) {
    throw new Error(
      '--engine cluster starts its own PostgreSQL and Temporal server: unset DATABASE_URL and TEMPORAL_ADDRESS',
    );
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-bench-'));
  chmodSync(scratch, 0o755);
  const stops: (() => Promise<void>)[] = [];
  let databaseUrl = process.env.DATABASE_URL;
  const postgresFsync = options.postgresFsync ?? false;
  const passwords = engine === 'cluster' ? newClusterPasswords() : undefined;
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!databaseUrl) {
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(scratch, 'postgres'),
      port: randomPostgresPort(),
      flags: postgresFlags(postgresFsync),
      ...(passwords && { superuser: { user: 'postgres', password: passwords.postgres_password } }),
    });
    stops.push(postgres.stop);
    databaseUrl = postgres.url;
    if (passwords) {
      const cluster = await startClusterOn(postgres.url, passwords, {
        dataDir: path.join(scratch, 'temporal'),
        port: randomServerPort(),
        namespace: 'default',
        tuning: options.tuning,
      });
      stops.push(cluster.stop);
      databaseUrl = cluster.databaseUrl;
      temporalAddress = cluster.address;
    }
  }
  if (!temporalAddress) {
    const temporal = await startTemporalDevServer({ dbFilename: path.join(scratch, 'temporal.sqlite') });
    stops.push(temporal.stop);
    temporalAddress = temporal.address;
  }
  await applyMigrations(databaseUrl, loadConfig(process.env).payloadKeys);
  return {
    code,
    profileDir,
    databaseUrl,
    postgres: process.env.DATABASE_URL ? 'DATABASE_URL' : `embedded, fsync ${postgresFsync ? 'on' : 'off'}`,
    temporal: process.env.TEMPORAL_ADDRESS
      ? 'TEMPORAL_ADDRESS'
      : engine === 'cluster'
        ? `Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL`
        : 'Temporal dev server (SQLite)',
    temporalAddress,
    taskQueue: `bench-${process.pid}`,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

const children = new Set<ChildProcess>();
// A benchmark that fails half-way must not leave its API and worker behind.
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

export interface Role {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url?: string;
  readonly stop: () => Promise<void>;
}

/** Starts a role; it is ready when `readyLine` appears in its output, or when `probe` says so. */
function spawnRole(
  { code, profileDir }: Pick<BenchServices, 'code' | 'profileDir'>,
  entry: string,
  env: NodeJS.ProcessEnv,
  readyLine: string,
  probe?: () => Promise<boolean>,
): Promise<Role> {
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const program =
    code === 'built'
      ? [path.join(PROJECT_ROOT, 'dist', `${entry}.js`)]
      : ['--import', 'tsx', path.join(PROJECT_ROOT, `${entry}.ts`)];
  const child = spawn(process.execPath, [...profile, ...program], {
    cwd: PROJECT_ROOT,
    // The storm's webhook receivers listen on 127.0.0.1.
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      WORKER_METRICS_ADDRESS: 'off',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const role: Role = {
    child,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
  return new Promise((resolve, reject) => {
    let output = '';
    let ready = false;
    const becomeReady = () => {
      if (ready) return;
      ready = true;
      resolve(role);
    };
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (!probe && output.includes(readyLine)) becomeReady();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${entry} exited with ${code}: ${output}`));
    });
    if (probe) {
      const deadline = Date.now() + 60_000;
      const poll = async () => {
        if (ready || child.exitCode !== null) return;
        if (await probe()) return becomeReady();
        if (Date.now() > deadline) return reject(new Error(`${entry} was not ready within 60 s: ${output}`));
        setTimeout(() => void poll(), 200);
      };
      void poll();
    }
  });
}

export function startWorker(services: BenchServices): Promise<Role> {
  return spawnRole(
    services,
    'worker/main',
    {
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: services.temporalAddress,
      TEMPORAL_TASK_QUEUE: services.taskQueue,
    },
    'worker running',
  );
}

/** The delivery relay: sends the notifications and webhooks ticket changes queue. */
export function startRelay(services: BenchServices): Promise<Role> {
  return spawnRole(services, 'relay/main', { DATABASE_URL: services.databaseUrl }, 'delivery relay running');
}

/** A port nothing listens on now: the kernel picks it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startApi(
  services: BenchServices,
  policy: Record<string, unknown>,
  port?: number,
): Promise<Role> {
  const listenOn = port ?? (await freePort());
  const policyFile = path.join(tmpdir(), `aftercare-bench-policy-${process.pid}-${Date.now()}.json`);
  writeFileSync(policyFile, JSON.stringify(policy));
  const url = `http://127.0.0.1:${listenOn}`;
  // Request logs stay off (warn) so the measurement is of the API, not of its logging.
  const role = await spawnRole(
    services,
    'api/main',
    {
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: services.temporalAddress,
      TEMPORAL_TASK_QUEUE: services.taskQueue,
      PORT: String(listenOn),
      HOST: '127.0.0.1',
      API_KEYS: `${BENCH_KEY}:admin:bench`,
      SLA_POLICY_FILE: policyFile,
      RATE_LIMIT_PER_MINUTE: '100000000',
      LOG_LEVEL: 'warn',
    },
    'API_KEYS',
    async () => {
      const ready = await fetch(`${url}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      return ready;
    },
  ).finally(() => rmSync(policyFile, { force: true }));
  return { ...role, url };
}
