import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEV_ADMIN_KEY, isLoopbackHost, loadConfig } from '../config';
import { applyMigrations } from '../db/migrate';
import { PROJECT_ROOT } from '../temporal/binaries';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres';
import { startTemporalDevServer, type RunningDevServer } from './temporal-dev-server';

/**
 * `npm run dev`: the whole product on one machine. An embedded PostgreSQL and the Temporal dev server
 * (with UI) keep their data under `.data/`, so a second run finds the same tickets and workflows.
 * The worker, the delivery relay and the API run as child processes; one that dies is started
 * again, as a supervisor would. `DATABASE_URL` / `TEMPORAL_ADDRESS` use external services instead.
 */
const DATA_DIR = path.join(PROJECT_ROOT, '.data');
const POSTGRES_PORT = Number(process.env.DEV_POSTGRES_PORT ?? 54329);
const TEMPORAL_PORT = Number(process.env.DEV_TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.DEV_TEMPORAL_UI_PORT ?? 8233);
const RESTART_DELAY_MS = 1_000;

const say = (line: string) => process.stdout.write(`[dev] ${line}\n`);

interface Role {
  readonly name: 'worker' | 'relay' | 'api';
  readonly entry: string;
  child?: ChildProcess;
}

function startRole(role: Role, env: NodeJS.ProcessEnv, isStopping: () => boolean): void {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, role.entry)], {
    cwd: PROJECT_ROOT,
    env,
    stdio: 'inherit',
    // Its own process group: Ctrl-C reaches only this supervisor, which stops the roles in order.
    detached: true,
  });
  role.child = child;
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

async function main(): Promise<void> {
  const config = loadConfig();
  const apiUrl = `http://localhost:${config.port}`;
  mkdirSync(DATA_DIR, { recursive: true });
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
    postgres = await startEmbeddedPostgres({ dataDir: path.join(DATA_DIR, 'postgres'), port: POSTGRES_PORT });
    databaseUrl = postgres.url;
    say(`PostgreSQL (embedded) on 127.0.0.1:${POSTGRES_PORT}, data in ${postgres.dataDir}`);
  }
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    temporal = await startTemporalDevServer({
      dbFilename: path.join(DATA_DIR, 'temporal.sqlite'),
      port: TEMPORAL_PORT,
      uiPort: TEMPORAL_UI_PORT,
      codecEndpoint: `${apiUrl}/codec`,
      log: say,
    });
    temporalAddress = temporal.address;
    say(`Temporal dev server on ${temporalAddress}, history in .data/temporal.sqlite`);
  }
  const env = {
    // Receivers on this machine (e.g. `npm run bench:storm`'s) may get webhooks in development.
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
  };
  await applyMigrations(databaseUrl, loadConfig(env).payloadKeys);
  say('migrations applied');
  for (const role of roles) startRole(role, env, () => stopping);

  say('Aftercare is starting:');
  say(
    `  Listening    ${config.host}:${config.port}${isLoopbackHost(config.host) ? '  (this machine only; HOST changes it)' : ''}`,
  );
  say(`  API docs     ${apiUrl}/docs`);
  say(`  Temporal UI  ${temporal?.uiUrl ?? `(external Temporal at ${temporalAddress})`}`);
  if (config.usingDevAdminKey)
    say(`  API key      ${DEV_ADMIN_KEY}  (development only, loopback only; set API_KEYS for real keys)`);
  say(`  Codec        ${apiUrl}/codec/login  (sign in there to see decrypted payloads in Temporal UI)`);
  say('Ctrl-C stops everything.');
}

main().catch((error: unknown) => {
  process.stderr.write(`[dev] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
