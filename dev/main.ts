import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { temporal as proto } from '@temporalio/proto';
import { isColorSupported } from 'pino-pretty';
import { type AppConfig, DEV_ADMIN_KEY, isLoopbackHost, loadConfig, type TemporalSettings } from '../config';
import { applyMigrations } from '../db/migrate';
import { PROJECT_ROOT } from '../temporal/binaries';
import { TEMPORAL_SERVER_VERSION } from '../temporal/server-binaries';
import { connectNativeConnection } from '../temporal/connection';
import { consoleFormatter, type ConsoleRole } from './console';
import { claimDataFolder } from './data-folder';
import { DEMO_POLICY_FILE, seedDemo } from './demo';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres';
import { startClusterOn, newClusterPasswords, type DatabasePasswords } from './temporal-cluster';
import { escalatedTicketsUrl, startTemporalDevServer } from './temporal-dev-server';

/**
 * `npm run dev`: the whole product on one machine. An embedded PostgreSQL and the Temporal dev server
 * (with UI) keep their data under `.data/`, so a second run finds the same tickets and workflows.
 * The worker, the delivery relay and the API run as child processes; one that dies is started
 * again, as a supervisor would. `DATABASE_URL` / `TEMPORAL_ADDRESS` use external services instead.
 *
 * `npm run dev -- --demo` does the same with short clocks in a data folder of its own (`.data-demo/`)
 * and, once everything is ready, makes sample engineers and tickets through the API (see demo.ts).
 * `npm run cluster` (`--cluster`) runs the production shape instead: the real Temporal server (built
 * once into `.tools/`) on the embedded PostgreSQL, its schema set up and its search attributes
 * registered by the compose file's own scripts, Temporal UI as the compose file runs it, and the
 * compiled code (`dist/`) with two workers, in `.data-cluster/`.
 * `DEV_DATA_DIR` and the `DEV_*_PORT` variables move the data and the servers (the tests use them).
 */
const POSTGRES_PORT = Number(process.env.DEV_POSTGRES_PORT ?? 54329);
const TEMPORAL_PORT = Number(process.env.DEV_TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.DEV_TEMPORAL_UI_PORT ?? 8233);
const RESTART_DELAY_MS = 1_000;
const DEMO_POLICY = path.relative(PROJECT_ROOT, DEMO_POLICY_FILE);

const { demo, cluster } = parseArgs({
  options: { demo: { type: 'boolean', default: false }, cluster: { type: 'boolean', default: false } },
}).values;
const format = consoleFormatter({
  colorize: isColorSupported,
  roles: cluster ? ['dev', 'worker-1', 'worker-2', 'relay', 'api'] : undefined,
});
const say = (line: string) => process.stdout.write(format('dev', line));

interface Role {
  readonly name: Exclude<ConsoleRole, 'dev'>;
  /** The program without its extension: `worker/main` runs worker/main.ts, or dist/worker/main.js when built. */
  readonly entry: string;
  readonly built: boolean;
  readonly env?: NodeJS.ProcessEnv;
  child?: ChildProcess;
}

/** Prints every line of a role's output as the console shows it. */
function printLines(role: Role, stream: Readable, out: NodeJS.WriteStream) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
    out.write(format(role.name, line)),
  );
}

function startRole(role: Role, env: NodeJS.ProcessEnv, isStopping: () => boolean): void {
  const program = role.built
    ? [path.join(PROJECT_ROOT, 'dist', `${role.entry}.js`)]
    : ['--import', 'tsx', path.join(PROJECT_ROOT, `${role.entry}.ts`)];
  const child = spawn(process.execPath, program, {
    cwd: PROJECT_ROOT,
    env: { ...env, ...role.env },
    // Piped: each role writes JSON, which the console prints one readable line per event.
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C reaches only this supervisor, which stops the roles in order.
    detached: true,
  });
  role.child = child;
  printLines(role, child.stdout, process.stdout);
  printLines(role, child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (isStopping()) return;
    say(`${role.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); starting it again`);
    setTimeout(() => startRole(role, env, isStopping), RESTART_DELAY_MS);
  });
}

function stopRole(role: Role): Promise<void> {
  const child = role.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Until the API answers `/readyz` (PostgreSQL and Temporal reachable); it may be restarting. */
async function apiReady(apiUrl: string): Promise<void> {
  for (;;) {
    const ready = await fetch(`${apiUrl}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(250);
  }
}

/** Until `workers` workers poll the ticket task queue (each bundles the workflow code first, unless built). */
async function workersPolling(settings: TemporalSettings, workers: number): Promise<void> {
  const connection = await connectNativeConnection(settings);
  try {
    for (;;) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: settings.namespace,
        taskQueue: { name: settings.taskQueue },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (new Set(pollers.map((poller) => poller.identity)).size >= workers) return;
      await sleep(250);
    }
  } finally {
    await connection.close();
  }
}

/** Where this machine reaches the API: its HOST, or loopback when it listens on every address. */
function localApiUrl(config: AppConfig): string {
  const host = ['0.0.0.0', '::', 'localhost'].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${config.port}`;
}

/** An admin key of the configuration for the demo's requests: the development key unless API_KEYS has one. */
function demoKey(config: AppConfig): string {
  const admin = config.apiKeys.find((entry) => entry.actor.role === 'admin');
  if (!admin) throw new Error('--demo makes its sample data as an admin: give API_KEYS an admin key');
  return admin.key;
}

/**
 * The passwords of the cluster's PostgreSQL superuser and its `temporal` and `aftercare` roles: made
 * once, kept in the data folder (readable by its owner only), so a second start finds the same roles.
 */
function clusterPasswords(dataDir: string): DatabasePasswords & { readonly postgres_password: string } {
  const file = path.join(dataDir, 'database-passwords.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof clusterPasswords>;
  const passwords = newClusterPasswords();
  writeFileSync(file, `${JSON.stringify(passwords)}\n`, { mode: 0o600 });
  return passwords;
}

/** The cluster runs its own PostgreSQL and Temporal server: it is the shape of the compose file on this machine. */
function refuseForCluster(env: NodeJS.ProcessEnv, demo: boolean): void {
  if (demo) throw new Error('--demo runs on the development server: use `npm run dev -- --demo`');
  const external = ['DATABASE_URL', 'TEMPORAL_ADDRESS'].filter((name) => env[name]);
  if (external.length > 0) {
    throw new Error(
      `npm run cluster runs its own PostgreSQL and Temporal server: unset ${external.join(' and ')} (npm run dev uses yours)`,
    );
  }
  if (!existsSync(path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js'))) {
    throw new Error(
      'npm run cluster runs the compiled code: run `npm run build` first (npm run cluster does)',
    );
  }
}

/** The second worker's metrics: two ports above the first's (`9466` by default), or off like it. */
function secondWorkerMetrics(first: string | undefined): string {
  if (!first) return 'off';
  const at = first.lastIndexOf(':');
  return `${first.slice(0, at)}:${Number(first.slice(at + 1)) + 2}`;
}

/** The demo's data goes only into its own embedded servers, with its own clocks. */
function refuseForDemo(env: NodeJS.ProcessEnv): void {
  const external = ['DATABASE_URL', 'TEMPORAL_ADDRESS'].filter((name) => env[name]);
  if (external.length > 0) {
    throw new Error(
      `--demo keeps its sample data in its own embedded PostgreSQL and Temporal, never in yours: unset ${external.join(' and ')}`,
    );
  }
  if (env.SLA_POLICY_FILE) {
    throw new Error(`--demo brings its own short clocks (${DEMO_POLICY}): unset SLA_POLICY_FILE`);
  }
}

async function main(): Promise<void> {
  if (cluster) refuseForCluster(process.env, demo);
  if (demo) refuseForDemo(process.env);
  const kind = cluster ? 'cluster' : demo ? 'demo' : 'development';
  const dataDir = path.resolve(
    process.env.DEV_DATA_DIR ||
      path.join(PROJECT_ROOT, { cluster: '.data-cluster', demo: '.data-demo', development: '.data' }[kind]),
  );
  claimDataFolder(dataDir, kind);
  const baseEnv = { ...process.env, ...(demo && { SLA_POLICY_FILE: DEMO_POLICY_FILE }) };
  const config = loadConfig(baseEnv);
  const apiKey = demo ? demoKey(config) : undefined;
  const apiUrl = `http://localhost:${config.port}`;
  const localApi = localApiUrl(config);
  let postgres: RunningPostgres | undefined;
  let temporal: { address: string; uiUrl: string | undefined; stop: () => Promise<void> } | undefined;
  const engine = cluster ? 'Temporal server' : 'Temporal dev server';
  // The cluster runs two workers, as a deployment would; each serves its metrics on a port of its own.
  const roles: Role[] = cluster
    ? [
        { name: 'worker-1', entry: 'worker/main', built: true },
        {
          name: 'worker-2',
          entry: 'worker/main',
          built: true,
          env: { WORKER_METRICS_ADDRESS: secondWorkerMetrics(config.workerMetricsAddress) },
        },
        { name: 'relay', entry: 'relay/main', built: true },
        { name: 'api', entry: 'api/main', built: true },
      ]
    : [
        { name: 'worker', entry: 'worker/main', built: false },
        { name: 'relay', entry: 'relay/main', built: false },
        { name: 'api', entry: 'api/main', built: false },
      ];
  let stopping = false;
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    if (exitCode === 0) say(`${signal}: stopping`);
    const steps: [string, () => Promise<void>][] = [
      ['workers, relay and API', () => Promise.all(roles.map(stopRole)).then(() => undefined)],
      [cluster ? 'Temporal UI and server' : engine, () => temporal?.stop() ?? Promise.resolve()],
      ['PostgreSQL', () => postgres?.stop() ?? Promise.resolve()],
    ];
    for (const [name, step] of steps) {
      say(`stopping ${name}`);
      await step().catch((error: unknown) => say(`${name} did not stop cleanly: ${String(error)}`));
    }
    say('stopped');
    process.exit(exitCode);
  };
  // A start that fails half-way stops what it started (a PostgreSQL left running holds the port).
  stopAfterFailure = () => stop('failure', 1);
  process.on('exit', () => roles.forEach((role) => role.child?.kill('SIGKILL')));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  let databaseUrl = process.env.DATABASE_URL;
  const passwords = cluster ? clusterPasswords(dataDir) : undefined;
  if (!databaseUrl) {
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port: POSTGRES_PORT,
      ...(passwords && { superuser: { user: 'postgres', password: passwords.postgres_password } }),
    });
    databaseUrl = postgres.url;
    say(`PostgreSQL (embedded) on 127.0.0.1:${POSTGRES_PORT}, data in ${postgres.dataDir}`);
  }
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (passwords && postgres) {
    const running = await startClusterOn(postgres.url, passwords, {
      dataDir: path.join(dataDir, 'temporal'),
      port: TEMPORAL_PORT,
      namespace: config.temporal.namespace,
      ui: { port: TEMPORAL_UI_PORT, codecEndpoint: `${apiUrl}/codec` },
      log: say,
    });
    temporal = running;
    databaseUrl = running.databaseUrl;
    temporalAddress = running.address;
    say(`Temporal server on ${temporalAddress}, history in PostgreSQL (temporal, temporal_visibility)`);
  }
  if (!temporalAddress) {
    const history = path.join(dataDir, 'temporal.sqlite');
    temporal = await startTemporalDevServer({
      dbFilename: history,
      port: TEMPORAL_PORT,
      uiPort: TEMPORAL_UI_PORT,
      codecEndpoint: `${apiUrl}/codec`,
      log: say,
    });
    temporalAddress = temporal.address;
    say(`Temporal dev server on ${temporalAddress}, history in ${history}`);
  }
  const env = {
    // Receivers on this machine (e.g. `npm run bench:storm`'s) may get webhooks in development.
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    ...baseEnv,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
  };
  await applyMigrations(databaseUrl, loadConfig(env).payloadKeys);
  say('migrations applied');
  const started = Date.now();
  for (const role of roles) startRole(role, env, () => stopping);
  say(`starting ${cluster ? 'two workers (compiled)' : 'the worker'}, the delivery relay and the API`);
  const workers = roles.filter((role) => role.entry === 'worker/main').length;
  await Promise.all([
    workersPolling({ ...config.temporal, address: temporalAddress }, workers),
    apiReady(localApi),
  ]);

  say(`Aftercare is ready (${((Date.now() - started) / 1000).toFixed(1)} s):`);
  say(
    `  Listening    ${config.host}:${config.port}${isLoopbackHost(config.host) ? '  (this machine only; HOST changes it)' : ''}`,
  );
  say(`  API docs     ${apiUrl}/docs`);
  if (cluster)
    say(
      `  Engine       Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL, compiled code, two workers`,
    );
  say(`  Temporal UI  ${temporal?.uiUrl ?? `(external Temporal at ${temporalAddress})`}`);
  if (temporal?.uiUrl)
    say(`  Escalated    ${escalatedTicketsUrl(temporal.uiUrl, config.temporal.namespace)}`);
  if (config.usingDevAdminKey)
    say(`  API key      ${DEV_ADMIN_KEY}  (development only, loopback only; set API_KEYS for real keys)`);
  say(`  Codec        ${apiUrl}/codec/login  (sign in there to see decrypted payloads in Temporal UI)`);
  say('Ctrl-C stops everything.');
  if (apiKey) await runDemo(localApi, apiKey, dataDir);
}

async function runDemo(apiUrl: string, key: string, dataDir: string): Promise<void> {
  say(`demo: short clocks (${DEMO_POLICY}), data in ${dataDir}; making sample engineers and tickets`);
  try {
    for (const line of await seedDemo({ url: apiUrl, key })) say(`demo: ${line}`);
    const shownKey = key === DEV_ADMIN_KEY ? key : '<your admin key>';
    say(`demo: escalations  curl -s ${apiUrl}/v1/escalations -H 'Authorization: Bearer ${shownKey}'`);
  } catch (error) {
    say(`demo: the sample data could not be made: ${error instanceof Error ? error.message : String(error)}`);
  }
}

let stopAfterFailure = (): Promise<void> => Promise.resolve();

main().catch(async (error: unknown) => {
  process.stderr.write(format('dev', `failed: ${error instanceof Error ? error.message : String(error)}`));
  await stopAfterFailure();
  process.exit(1);
});
