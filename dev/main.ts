import { type ChildProcess, spawn } from 'node:child_process';
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
import { connectNativeConnection } from '../temporal/connection';
import { consoleFormatter, type ConsoleRole } from './console';
import { claimDataFolder } from './data-folder';
import { DEMO_POLICY_FILE, seedDemo } from './demo';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres';
import { escalatedTicketsUrl, startTemporalDevServer, type RunningDevServer } from './temporal-dev-server';

/**
 * `npm run dev`: the whole product on one machine. An embedded PostgreSQL and the Temporal dev server
 * (with UI) keep their data under `.data/`, so a second run finds the same tickets and workflows.
 * The worker, the delivery relay and the API run as child processes; one that dies is started
 * again, as a supervisor would. `DATABASE_URL` / `TEMPORAL_ADDRESS` use external services instead.
 *
 * `npm run dev -- --demo` does the same with short clocks in a data folder of its own (`.data-demo/`)
 * and, once everything is ready, makes sample engineers and tickets through the API (see demo.ts).
 * `DEV_DATA_DIR` and the `DEV_*_PORT` variables move the data and the servers (the tests use them).
 */
const POSTGRES_PORT = Number(process.env.DEV_POSTGRES_PORT ?? 54329);
const TEMPORAL_PORT = Number(process.env.DEV_TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.DEV_TEMPORAL_UI_PORT ?? 8233);
const RESTART_DELAY_MS = 1_000;
const DEMO_POLICY = path.relative(PROJECT_ROOT, DEMO_POLICY_FILE);

const format = consoleFormatter({ colorize: isColorSupported });
const say = (line: string) => process.stdout.write(format('dev', line));

interface Role {
  readonly name: Exclude<ConsoleRole, 'dev'>;
  readonly entry: string;
  child?: ChildProcess;
}

/** Prints every line of a role's output as the console shows it. */
function printLines(role: Role, stream: Readable, out: NodeJS.WriteStream) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
    out.write(format(role.name, line)),
  );
}

function startRole(role: Role, env: NodeJS.ProcessEnv, isStopping: () => boolean): void {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, role.entry)], {
    cwd: PROJECT_ROOT,
    env,
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

/** Until a worker polls the ticket task queue (it bundles the workflow code first, which takes a while). */
async function workerPolling(settings: TemporalSettings): Promise<void> {
  const connection = await connectNativeConnection(settings);
  try {
    for (;;) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: settings.namespace,
        taskQueue: { name: settings.taskQueue },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (pollers.length > 0) return;
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
  const { demo } = parseArgs({ options: { demo: { type: 'boolean', default: false } } }).values;
  if (demo) refuseForDemo(process.env);
  const dataDir = path.resolve(
    process.env.DEV_DATA_DIR || path.join(PROJECT_ROOT, demo ? '.data-demo' : '.data'),
  );
  claimDataFolder(dataDir, demo ? 'demo' : 'development');
  const baseEnv = { ...process.env, ...(demo && { SLA_POLICY_FILE: DEMO_POLICY_FILE }) };
  const config = loadConfig(baseEnv);
  const apiKey = demo ? demoKey(config) : undefined;
  const apiUrl = `http://localhost:${config.port}`;
  const localApi = localApiUrl(config);
  let postgres: RunningPostgres | undefined;
  let temporal: RunningDevServer | undefined;
  const roles: Role[] = [
    { name: 'worker', entry: 'worker/main.ts' },
    { name: 'relay', entry: 'relay/main.ts' },
    { name: 'api', entry: 'api/main.ts' },
  ];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    const steps: [string, () => Promise<void>][] = [
      ['worker, relay and API', () => Promise.all(roles.map(stopRole)).then(() => undefined)],
      ['Temporal dev server', () => temporal?.stop() ?? Promise.resolve()],
      ['PostgreSQL', () => postgres?.stop() ?? Promise.resolve()],
    ];
    for (const [name, step] of steps) {
      say(`stopping ${name}`);
      await step().catch((error: unknown) => say(`${name} did not stop cleanly: ${String(error)}`));
    }
    say('stopped');
    process.exit(0);
  };
  process.on('exit', () => roles.forEach((role) => role.child?.kill('SIGKILL')));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: POSTGRES_PORT });
    databaseUrl = postgres.url;
    say(`PostgreSQL (embedded) on 127.0.0.1:${POSTGRES_PORT}, data in ${postgres.dataDir}`);
  }
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
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
  say('starting the worker, the delivery relay and the API');
  await Promise.all([workerPolling({ ...config.temporal, address: temporalAddress }), apiReady(localApi)]);

  say(`Aftercare is ready (${((Date.now() - started) / 1000).toFixed(1)} s):`);
  say(
    `  Listening    ${config.host}:${config.port}${isLoopbackHost(config.host) ? '  (this machine only; HOST changes it)' : ''}`,
  );
  say(`  API docs     ${apiUrl}/docs`);
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

main().catch((error: unknown) => {
  process.stderr.write(format('dev', `failed: ${error instanceof Error ? error.message : String(error)}`));
  process.exit(1);
});
