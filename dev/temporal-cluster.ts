import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import postgres from 'postgres';
import { PROJECT_ROOT, resolveTemporalBinary, TEMPORAL_CLI } from '../temporal/binaries';
import { TEMPORAL_DYNAMIC_CONFIG } from './temporal-dynamic-config';
import {
  resolveTemporalServer,
  resolveTemporalUi,
  type TemporalServerTools,
} from '../temporal/server-binaries';

/**
 * The real Temporal server on PostgreSQL, the production engine of the compose file, without
 * containers: its databases in a PostgreSQL we are given (the embedded one), the schema set up and
 * updated by deploy/temporal/setup-schema.sh and the namespace and search attributes registered by
 * deploy/temporal/register.sh — the very scripts the compose file runs — then the server started
 * from `.tools/` with a configuration derived from the module's `development-postgres12.yaml`.
 */
const execFileAsync = promisify(execFile);
const DEPLOY_TEMPORAL = path.join(PROJECT_ROOT, 'deploy', 'temporal');
export const TEMPORAL_DATABASES = ['temporal', 'temporal_visibility'] as const;
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 20_000;
/** Like the compose file's `restart: on-failure:5` on temporal-register: a new namespace takes a while to be seen. */
const REGISTER_ATTEMPTS = 10;
const REGISTER_RETRY_MS = 3_000;

export interface ClusterDatabase {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export interface ClusterOptions {
  readonly database: ClusterDatabase;
  /** Where the server's configuration and log go. */
  readonly dataDir: string;
  /** The frontend's gRPC port (7233 like the dev server); the other services take the next ports. */
  readonly port: number;
  readonly namespace: string;
  /** Other values than CLUSTER_TUNING's (the benchmark tries them). */
  readonly tuning?: Partial<Record<keyof typeof CLUSTER_TUNING, string>>;
  /** Temporal UI (the compose file's, read-only like there) on this port, decoding through this codec. */
  readonly ui?: { readonly port: number; readonly codecEndpoint?: string };
  readonly log?: (line: string) => void;
}

export interface RunningCluster {
  readonly address: string;
  readonly uiUrl: string | undefined;
  readonly tools: TemporalServerTools;
  readonly logFile: string;
  readonly stop: () => Promise<void>;
}

/**
 * The server's settings that matter at this size, the same in the compose file's `temporal` service
 * (test/unit/compose-versions.test.ts compares them): history shards (fixed for a cluster's life)
 * and the persistence connection pools of the history and visibility stores.
 */
export const CLUSTER_TUNING = {
  NUM_HISTORY_SHARDS: '4',
  SQL_MAX_CONNS: '20',
  SQL_MAX_IDLE_CONNS: '20',
  SQL_VIS_MAX_CONNS: '10',
  SQL_VIS_MAX_IDLE_CONNS: '10',
} as const;

/** The server keeps membership ports in a PostgreSQL smallint column (cluster_membership.rpc_port). */
const MAX_MEMBERSHIP_PORT = 32_767;

/** A frontend port for a throwaway cluster (tests, benchmark, chaos run) whose membership ports fit. */
export function randomServerPort(): number {
  return 20_000 + Math.floor(Math.random() * 12_000);
}

/**
 * The environment of the server: what the compose file gives the temporalio/server image, read by
 * the same configuration template (the module's config/docker.yaml, which the image runs), plus the
 * ports, all on loopback. Ports go up from the frontend's: history +1, matching +2, worker +6, the
 * frontend's HTTP API +10, with their membership ports 300 below each.
 */
export function serverEnvironment(options: {
  database: ClusterDatabase;
  port: number;
  dynamicConfigFile: string;
  tuning?: Partial<Record<keyof typeof CLUSTER_TUNING, string>>;
}): Record<string, string> {
  const { database, port } = options;
  if (port - 300 < 1024 || port + 6 - 300 > MAX_MEMBERSHIP_PORT) {
    throw new Error(
      `the Temporal server's port must be between 1324 and ${MAX_MEMBERSHIP_PORT + 294}: its membership ports (300 below) are stored as a smallint`,
    );
  }
  const service = (name: string, offset: number) => ({
    [`${name}_GRPC_PORT`]: String(port + offset),
    [`${name}_MEMBERSHIP_PORT`]: String(port + offset - 300),
  });
  return {
    DB: 'postgres12',
    POSTGRES_SEEDS: database.host,
    // The history store reads DB_PORT, the visibility store POSTGRES_PORT.
    DB_PORT: String(database.port),
    POSTGRES_PORT: String(database.port),
    POSTGRES_USER: database.user,
    POSTGRES_PWD: database.password,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DYNAMIC_CONFIG_FILE_PATH: options.dynamicConfigFile,
    ...CLUSTER_TUNING,
    ...options.tuning,
    ...service('FRONTEND', 0),
    FRONTEND_HTTP_PORT: String(port + 10),
    ...service('HISTORY', 1),
    ...service('MATCHING', 2),
    ...service('WORKER', 6),
  };
}

/** The passwords deploy/postgres/init-aftercare.sh gives the `temporal` and `aftercare` roles. */
export interface DatabasePasswords {
  readonly temporal_password: string;
  readonly aftercare_password: string;
}

/**
 * The SQL of deploy/postgres/init-aftercare.sh — what the compose file's PostgreSQL runs once, when
 * its volume is new — as statements for each database, with the psql variables (`:'name'`) replaced
 * by the quoted passwords. psql sends one statement at a time; so does this (CREATE DATABASE cannot
 * run in the implicit transaction of a multi-statement query).
 */
export function initScriptStatements(
  script: string,
  passwords: DatabasePasswords,
): { database: string; statements: string[] }[] {
  const body = /<<'SQL'\n([\s\S]*?)\nSQL\n/.exec(script)?.[1];
  if (!body) throw new Error("deploy/postgres/init-aftercare.sh has no <<'SQL' block");
  const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
  const groups = [{ database: 'postgres', statements: [] as string[] }];
  let statement = '';
  for (const line of body.split('\n')) {
    const connect = /^\\connect\s+(\S+)\s*$/.exec(line);
    if (connect?.[1]) {
      groups.push({ database: connect[1], statements: [] });
      continue;
    }
    if (/^\s*(--.*)?$/.test(line)) continue;
    statement += `${statement ? '\n' : ''}${line}`;
    if (!line.trimEnd().endsWith(';')) continue;
    const filled = statement.replace(/:'(\w+)'/g, (_match, name: string) => {
      const value = passwords[name as keyof DatabasePasswords];
      if (value === undefined) throw new Error(`init-aftercare.sh asks for :'${name}', which is not given`);
      return literal(value);
    });
    groups.at(-1)?.statements.push(filled);
    statement = '';
  }
  return groups.filter((group) => group.statements.length > 0);
}

/**
 * Gives a new PostgreSQL what the compose file's gets from deploy/postgres/init-aftercare.sh: the
 * `temporal` and `aftercare` roles (neither a superuser) and their databases. Once: a PostgreSQL
 * that has the `temporal` role already has them.
 */
export async function initializeDatabases(
  superuser: ClusterDatabase,
  passwords: DatabasePasswords,
): Promise<void> {
  const connect = (database: string) =>
    postgres({ ...superuser, database, max: 1, onnotice: () => undefined });
  const admin = connect('postgres');
  try {
    const [found] = await admin`select 1 from pg_roles where rolname = 'temporal'`;
    if (found) return;
  } finally {
    await admin.end();
  }
  const script = readFileSync(path.join(PROJECT_ROOT, 'deploy', 'postgres', 'init-aftercare.sh'), 'utf8');
  for (const { database, statements } of initScriptStatements(script, passwords)) {
    const sql = connect(database);
    try {
      for (const statement of statements) await sql.unsafe(statement);
    } finally {
      await sql.end();
    }
  }
}

/** Runs one of deploy/temporal's scripts with `sh`, as the compose file's admin-tools containers do. */
async function runDeployScript(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await execFileAsync('sh', [path.join(DEPLOY_TEMPORAL, script)], {
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    const tail = `${stdout ?? ''}${stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
    throw new Error(`deploy/temporal/${script} failed:\n${tail}`, { cause: error });
  }
}

async function untilFrontendAnswers(address: string, server: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`the Temporal server exited while starting; see ${logFile}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.close();
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new Error(
          `the Temporal server did not answer on ${address} in ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`,
        );
      }
      await sleep(500);
    }
  }
}

/**
 * Temporal UI as the compose file runs it: the temporalio/ui image's server and its own
 * configuration template (config/docker.yaml), given the same environment variables; write actions
 * off, so tickets change only through the API, which checks roles.
 */
async function startTemporalUi(
  address: string,
  ui: NonNullable<ClusterOptions['ui']>,
  logFile: string,
  log: (line: string) => void,
): Promise<{ url: string; process: ChildProcess }> {
  const tools = await resolveTemporalUi(log);
  const child = spawnLogged(tools.server, ['--root', tools.home, '--env', 'docker', 'start'], logFile, {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_UI_PORT: String(ui.port),
    TEMPORAL_DISABLE_WRITE_ACTIONS: 'true',
    ...(ui.codecEndpoint && { TEMPORAL_CODEC_ENDPOINT: ui.codecEndpoint }),
  });
  const url = `http://localhost:${ui.port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Temporal UI exited while starting; see ${logFile}`);
    }
    const answered = await fetch(`http://127.0.0.1:${ui.port}/api/v1/settings`).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return { url, process: child };
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(
        `Temporal UI did not answer on port ${ui.port} in ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`,
      );
    }
    await sleep(250);
  }
}

/**
 * One of the cluster's Go programs, its output appended to `logFile`, with only PATH and `env` from
 * us. Its own process group, so a Ctrl-C in the terminal reaches the supervisor, which stops it in
 * order; and so it would outlive a supervisor that crashed, it is killed when this process exits.
 */
function spawnLogged(
  command: string,
  args: string[],
  logFile: string,
  env: Record<string, string>,
): ChildProcess {
  const output = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout.pipe(output);
  child.stderr.pipe(output);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => {
    process.removeListener('exit', killOnExit);
    output.end();
  });
  return child;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startTemporalCluster(options: ClusterOptions): Promise<RunningCluster> {
  const log = options.log ?? (() => undefined);
  const tools = await resolveTemporalServer(log);
  const { database } = options;
  await runDeployScript('setup-schema.sh', {
    TEMPORAL_SQL_TOOL: tools.sqlTool,
    TEMPORAL_SCHEMA_DIR: tools.schemaDir,
    POSTGRES_SEEDS: database.host,
    DB_PORT: String(database.port),
    POSTGRES_USER: database.user,
    SQL_PASSWORD: database.password,
  });
  log(`Temporal schemas set up and updated in ${TEMPORAL_DATABASES.join(' and ')}`);

  mkdirSync(options.dataDir, { recursive: true });
  const logFile = path.join(options.dataDir, 'temporal-server.log');
  const environment = serverEnvironment({
    database,
    port: options.port,
    dynamicConfigFile: TEMPORAL_DYNAMIC_CONFIG,
    tuning: options.tuning,
  });
  const server = spawnLogged(
    tools.server,
    ['--root', tools.home, '--env', 'docker', '--allow-no-auth', 'start'],
    logFile,
    environment,
  );
  const address = `127.0.0.1:${options.port}`;
  try {
    await untilFrontendAnswers(address, server, logFile);
    const cli = await resolveTemporalBinary(TEMPORAL_CLI, { allowSdkDownload: false, log });
    const cliDir = cli.executable.type === 'existing-path' ? path.dirname(cli.executable.path) : '';
    const registerEnv = {
      PATH: [cliDir, process.env.PATH ?? ''].filter(Boolean).join(path.delimiter),
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: options.namespace,
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        log((await runDeployScript('register.sh', registerEnv)).trim().split('\n').at(-1) ?? '');
        break;
      } catch (error) {
        if (attempt === REGISTER_ATTEMPTS) throw error;
        await sleep(REGISTER_RETRY_MS);
      }
    }
  } catch (error) {
    await stopProcess(server);
    throw error;
  }
  let ui: { url: string; process: ChildProcess } | undefined;
  if (options.ui) {
    try {
      ui = await startTemporalUi(address, options.ui, path.join(options.dataDir, 'temporal-ui.log'), log);
    } catch (error) {
      await stopProcess(server);
      throw error;
    }
  }
  return {
    address,
    uiUrl: ui?.url,
    tools,
    logFile,
    stop: async () => {
      if (ui) await stopProcess(ui.process);
      await stopProcess(server);
    },
  };
}

/**
 * The whole production engine on a PostgreSQL we are given as its superuser (`superuserUrl`): the
 * compose file's roles and databases (once), then the server on them. Aftercare's URL is the
 * `aftercare` role's, as in the compose file. `npm run cluster`, the benchmark and the chaos run
 * start it this way.
 */
export async function startClusterOn(
  superuserUrl: string,
  passwords: DatabasePasswords,
  options: Omit<ClusterOptions, 'database'>,
): Promise<RunningCluster & { readonly databaseUrl: string }> {
  const url = new URL(superuserUrl);
  const host = { host: url.hostname, port: Number(url.port) };
  await initializeDatabases(
    { ...host, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) },
    passwords,
  );
  const cluster = await startTemporalCluster({
    ...options,
    database: { ...host, user: 'temporal', password: passwords.temporal_password },
  });
  const databaseUrl = `postgres://aftercare:${encodeURIComponent(passwords.aftercare_password)}@${host.host}:${host.port}/aftercare`;
  return { ...cluster, databaseUrl };
}

/** New passwords for the cluster's superuser and roles (npm run cluster keeps them in its data folder). */
export function newClusterPasswords(): DatabasePasswords & { readonly postgres_password: string } {
  const secret = () => randomBytes(24).toString('base64url');
  return { postgres_password: secret(), temporal_password: secret(), aftercare_password: secret() };
}
