import { spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { TOOLS_DIR, PROJECT_ROOT } from './binaries';

/**
 * The real Temporal server (what the compose file runs), for `npm run cluster`: the server binary,
 * its SQL schema tool and the PostgreSQL schema files, built once from the Go module proxy into
 * `.tools/temporal-server-<version>/` and reused afterwards. `TEMPORAL_SERVER_HOME` names a folder
 * with the same layout instead (bin/temporal-server, bin/temporal-sql-tool, schema/postgresql/v12).
 */
export const TEMPORAL_SERVER_VERSION = '1.32.2';
/** The Go toolchain the server's go.mod asks for; the go command fetches it like a module. */
export const TEMPORAL_SERVER_GO_TOOLCHAIN = 'go1.27.3';
const MODULE = 'go.temporal.io/server';
const PROGRESS_EVERY_MS = 15_000;

export interface TemporalServerTools {
  readonly home: string;
  readonly server: string;
  readonly sqlTool: string;
  /** Holds postgresql/v12/{temporal,visibility}/versioned, like /etc/temporal/schema in the admin-tools image. */
  readonly schemaDir: string;
  readonly source: 'env' | 'tools' | 'built';
}

export class TemporalServerBuildError extends Error {
  override name = 'TemporalServerBuildError';
}

export function serverToolsIn(home: string, source: TemporalServerTools['source']): TemporalServerTools {
  return {
    home,
    server: path.join(home, 'bin', 'temporal-server'),
    sqlTool: path.join(home, 'bin', 'temporal-sql-tool'),
    schemaDir: path.join(home, 'schema'),
    source,
  };
}

/** What is missing from a folder that should hold the tools (nothing: it is complete). */
export function missingTools(tools: TemporalServerTools): string[] {
  const missing: string[] = [];
  for (const file of [tools.server, tools.sqlTool]) {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      missing.push(file);
    }
  }
  for (const part of ['temporal', 'visibility']) {
    const dir = path.join(tools.schemaDir, 'postgresql', 'v12', part, 'versioned');
    if (!existsSync(dir)) missing.push(dir);
  }
  return missing;
}

/** Runs a go command, passing each line it prints to `onLine`; resolves with its stdout. */
function runGo(args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const tail: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      onLine(line);
    });
    child.once('error', (error) =>
      reject(
        new TemporalServerBuildError(
          `cannot run go (${error.message}): install Go 1.21 or later (it fetches ${TEMPORAL_SERVER_GO_TOOLCHAIN} itself), or set TEMPORAL_SERVER_HOME`,
        ),
      ),
    );
    child.once('exit', (code) => {
      if (code === 0) resolve(stdout.trim());
      else
        reject(
          new TemporalServerBuildError(`go ${args.join(' ')} failed (exit ${code}):\n${tail.join('\n')}`),
        );
    });
  });
}

/**
 * Builds the server and the SQL tool with `go install` into a scratch folder, copies the schema files
 * from the module cache beside them, and only then moves the folder into place, so a build stopped
 * half-way is never picked up.
 */
async function buildServerTools(target: string, log: (line: string) => void): Promise<void> {
  const scratch = `${target}.building-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(path.join(scratch, 'bin'), { recursive: true });
  const env = { ...process.env, GOTOOLCHAIN: TEMPORAL_SERVER_GO_TOOLCHAIN, GOBIN: path.join(scratch, 'bin') };
  const started = Date.now();
  let downloads = 0;
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} with go install into ${path.relative(PROJECT_ROOT, target)}/ (once; a few minutes)`,
  );
  const ticker = setInterval(
    () => log(`still building the Temporal server: ${elapsed()}, ${downloads} modules downloaded`),
    PROGRESS_EVERY_MS,
  );
  try {
    await runGo(
      [
        'install',
        `${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
        `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      ],
      env,
      (line) => {
        if (line.startsWith('go: downloading')) downloads += 1;
        if (line.startsWith(`go: downloading go1`)) log(line.slice('go: '.length));
      },
    );
    renameSync(path.join(scratch, 'bin', 'server'), path.join(scratch, 'bin', 'temporal-server'));
    renameSync(path.join(scratch, 'bin', 'sql'), path.join(scratch, 'bin', 'temporal-sql-tool'));
    const modCache = await runGo(['env', 'GOMODCACHE'], env, () => undefined);
    const schema = path.join(modCache, `${MODULE}@v${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql');
    const copy = path.join(scratch, 'schema', 'postgresql');
    cpSync(schema, copy, { recursive: true });
    // The module cache is read-only; the copy is not, so a later rebuild (or a user) can delete it.
    for (const entry of readdirSync(copy, { recursive: true, withFileTypes: true })) {
      chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
    }
    chmodSync(copy, 0o755);
    if (!existsSync(target)) renameSync(scratch, target);
    log(`built the Temporal server ${TEMPORAL_SERVER_VERSION} in ${elapsed()}`);
  } finally {
    clearInterval(ticker);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Finds the server, its SQL tool and schema files: TEMPORAL_SERVER_HOME, `.tools/`, or a build into `.tools/`. */
export async function resolveTemporalServer(
  log: (line: string) => void = () => undefined,
): Promise<TemporalServerTools> {
  const fromEnv = process.env.TEMPORAL_SERVER_HOME;
  if (fromEnv) {
    const tools = serverToolsIn(path.resolve(fromEnv), 'env');
    const missing = missingTools(tools);
    if (missing.length > 0) {
      throw new TemporalServerBuildError(`TEMPORAL_SERVER_HOME=${fromEnv} lacks ${missing.join(', ')}`);
    }
    return tools;
  }
  const home = path.join(TOOLS_DIR, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  if (missingTools(serverToolsIn(home, 'tools')).length === 0) return serverToolsIn(home, 'tools');
  // An incomplete folder (an older layout, or someone's partial copy) is rebuilt from scratch.
  rmSync(home, { recursive: true, force: true });
  mkdirSync(TOOLS_DIR, { recursive: true });
  await buildServerTools(home, log);
  const built = serverToolsIn(home, 'built');
  const missing = missingTools(built);
  if (missing.length > 0) throw new TemporalServerBuildError(`the build left out ${missing.join(', ')}`);
  return built;
}
