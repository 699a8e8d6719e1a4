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
  statSync,
} from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { TOOLS_DIR, PROJECT_ROOT } from './binaries';

/**
 * The real Temporal server and Temporal UI (what the compose file runs), for `npm run cluster`: built
 * once from the Go module proxy into `.tools/` and reused afterwards.
 * - `.tools/temporal-server-<version>/`: the server binary, its SQL schema tool and the PostgreSQL
 *   schema files and the image's configuration
 *   template and dynamic config (`TEMPORAL_SERVER_HOME` names a folder with the same layout instead:
 *   bin/temporal-server, bin/temporal-sql-tool, schema/postgresql/v12, config/docker.yaml,
 *   config/dynamicconfig/docker.yaml).
 * - `.tools/temporal-ui-<version>/`: the UI server (the temporalio/ui image's program) and the
 *   image's own configuration template, config/docker.yaml, which reads the same environment
 *   variables as the image (`TEMPORAL_UI_HOME` names such a folder instead).
 * The versions are the compose file's image tags; test/unit/compose-versions.test.ts keeps them equal.
 */
export const TEMPORAL_SERVER_VERSION = '1.32.2';
export const TEMPORAL_UI_VERSION = '2.49.1';
/** The Go toolchain the server's go.mod asks for; the go command fetches it like a module. */
export const TEMPORAL_SERVER_GO_TOOLCHAIN = 'go1.27.3';
const PROGRESS_EVERY_MS = 15_000;

/** A set of Go programs built from one module, with files copied from that module beside them. */
interface GoKit {
  /** What the console calls it: "the Temporal server 1.32.2". */
  readonly title: string;
  readonly folder: string;
  readonly homeEnv: string;
  readonly module: string;
  readonly version: string;
  /** Package path inside the module → the name of its binary in bin/. */
  readonly programs: Readonly<Record<string, string>>;
  /** Folder or file of the module → where it goes in the kit's folder. */
  readonly copies: Readonly<Record<string, string>>;
  /** What a complete folder holds (relative); the binaries must be executable. */
  readonly required: readonly string[];
}

const SERVER_KIT: GoKit = {
  title: `the Temporal server ${TEMPORAL_SERVER_VERSION}`,
  folder: `temporal-server-${TEMPORAL_SERVER_VERSION}`,
  homeEnv: 'TEMPORAL_SERVER_HOME',
  module: 'go.temporal.io/server',
  version: TEMPORAL_SERVER_VERSION,
  programs: { 'cmd/server': 'temporal-server', 'cmd/tools/sql': 'temporal-sql-tool' },
  // The image's configuration template: the server reads the compose file's variables. Its dynamic
  // configuration is Aftercare's own (deploy/temporal/dynamicconfig.yaml), as in the compose file.
  copies: {
    'schema/postgresql': 'schema/postgresql',
    'config/docker.yaml': 'config/docker.yaml',
  },
  required: [
    'bin/temporal-server',
    'bin/temporal-sql-tool',
    'config/docker.yaml',
    'schema/postgresql/v12/temporal/versioned',
    'schema/postgresql/v12/visibility/versioned',
  ],
};

const UI_KIT: GoKit = {
  title: `Temporal UI ${TEMPORAL_UI_VERSION}`,
  folder: `temporal-ui-${TEMPORAL_UI_VERSION}`,
  homeEnv: 'TEMPORAL_UI_HOME',
  module: 'github.com/temporalio/ui-server/v2',
  version: TEMPORAL_UI_VERSION,
  programs: { 'cmd/server': 'temporal-ui-server' },
  copies: { 'config/docker.yaml': 'config/docker.yaml' },
  required: ['bin/temporal-ui-server', 'config/docker.yaml'],
};

export interface TemporalServerTools {
  readonly home: string;
  readonly server: string;
  readonly sqlTool: string;
  /** Holds postgresql/v12/{temporal,visibility}/versioned, like /etc/temporal/schema in the admin-tools image. */
  readonly schemaDir: string;
  readonly source: ToolSource;
}

export interface TemporalUiTools {
  /** The UI server's root: it reads config/docker.yaml there (`--root <home> --env docker`). */
  readonly home: string;
  readonly server: string;
  readonly source: ToolSource;
}

export type ToolSource = 'env' | 'tools' | 'built';

export class TemporalServerBuildError extends Error {
  override name = 'TemporalServerBuildError';
}

export function serverToolsIn(home: string, source: ToolSource): TemporalServerTools {
  return {
    home,
    server: path.join(home, 'bin', 'temporal-server'),
    sqlTool: path.join(home, 'bin', 'temporal-sql-tool'),
    schemaDir: path.join(home, 'schema'),
    source,
  };
}

export function uiToolsIn(home: string, source: ToolSource): TemporalUiTools {
  return { home, server: path.join(home, 'bin', 'temporal-ui-server'), source };
}

/** What is missing from a folder that should hold a kit (nothing: it is complete). */
function missingFrom(home: string, kit: GoKit): string[] {
  return kit.required
    .map((relative) => path.join(home, relative))
    .filter((file) => {
      try {
        accessSync(file, file.includes(`${path.sep}bin${path.sep}`) ? constants.X_OK : constants.F_OK);
        return false;
      } catch {
        return true;
      }
    });
}

/** What a folder that should hold the server tools lacks. */
export const missingTools = (tools: TemporalServerTools): string[] => missingFrom(tools.home, SERVER_KIT);
/** What a folder that should hold Temporal UI lacks. */
export const missingUiTools = (tools: TemporalUiTools): string[] => missingFrom(tools.home, UI_KIT);
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
 * Builds a kit's programs with `go install` into a scratch folder, copies its files from the module
 * cache beside them, and only then moves the folder into place, so a build stopped half-way is never
 * picked up.
 */
async function buildKit(kit: GoKit, target: string, log: (line: string) => void): Promise<void> {
  const scratch = `${target}.building-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(path.join(scratch, 'bin'), { recursive: true });
  const env = { ...process.env, GOTOOLCHAIN: TEMPORAL_SERVER_GO_TOOLCHAIN, GOBIN: path.join(scratch, 'bin') };
  const started = Date.now();
  let downloads = 0;
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  log(
    `building ${kit.title} with go install into ${path.relative(PROJECT_ROOT, target)}/ (once; a few minutes)`,
  );
  const ticker = setInterval(
    () => log(`still building ${kit.title}: ${elapsed()}, ${downloads} modules downloaded`),
    PROGRESS_EVERY_MS,
  );
  try {
    await runGo(
      ['install', ...Object.keys(kit.programs).map((pkg) => `${kit.module}/${pkg}@v${kit.version}`)],
      env,
      (line) => {
        if (line.startsWith('go: downloading')) downloads += 1;
        if (line.startsWith(`go: downloading go1`)) log(line.slice('go: '.length));
      },
    );
    for (const [pkg, binary] of Object.entries(kit.programs)) {
      renameSync(path.join(scratch, 'bin', path.basename(pkg)), path.join(scratch, 'bin', binary));
    }
    const modCache = await runGo(['env', 'GOMODCACHE'], env, () => undefined);
    const moduleDir = path.join(modCache, `${kit.module}@v${kit.version}`);
    for (const [from, to] of Object.entries(kit.copies)) {
      const copy = path.join(scratch, to);
      cpSync(path.join(moduleDir, from), copy, { recursive: true });
      // The module cache is read-only; the copy is not, so a later rebuild (or a user) can delete it.
      makeWritable(copy);
    }
    if (!existsSync(target)) renameSync(scratch, target);
    log(`built ${kit.title} in ${elapsed()}`);
  } finally {
    clearInterval(ticker);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function makeWritable(copy: string): void {
  if (!statSync(copy).isDirectory()) return chmodSync(copy, 0o644);
  for (const entry of readdirSync(copy, { recursive: true, withFileTypes: true })) {
    chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  chmodSync(copy, 0o755);
}

/** A kit's folder: its `homeEnv` variable, `.tools/`, or a build into `.tools/`. */
async function resolveKit(
  kit: GoKit,
  log: (line: string) => void,
): Promise<{ home: string; source: ToolSource }> {
  const fromEnv = process.env[kit.homeEnv];
  if (fromEnv) {
    const home = path.resolve(fromEnv);
    const missing = missingFrom(home, kit);
    if (missing.length > 0) {
      throw new TemporalServerBuildError(`${kit.homeEnv}=${fromEnv} lacks ${missing.join(', ')}`);
    }
    return { home, source: 'env' };
  }
  const home = path.join(TOOLS_DIR, kit.folder);
  if (missingFrom(home, kit).length === 0) return { home, source: 'tools' };
  // An incomplete folder (an older layout, or someone's partial copy) is rebuilt from scratch.
  rmSync(home, { recursive: true, force: true });
  mkdirSync(TOOLS_DIR, { recursive: true });
  await buildKit(kit, home, log);
  const missing = missingFrom(home, kit);
  if (missing.length > 0) throw new TemporalServerBuildError(`the build left out ${missing.join(', ')}`);
  return { home, source: 'built' };
}

/** Finds the server, its SQL tool and schema files: TEMPORAL_SERVER_HOME, `.tools/`, or a build into `.tools/`. */
export async function resolveTemporalServer(
  log: (line: string) => void = () => undefined,
): Promise<TemporalServerTools> {
  const { home, source } = await resolveKit(SERVER_KIT, log);
  return serverToolsIn(home, source);
}

/** Finds Temporal UI's server: TEMPORAL_UI_HOME, `.tools/`, or a build into `.tools/`. */
export async function resolveTemporalUi(
  log: (line: string) => void = () => undefined,
): Promise<TemporalUiTools> {
  const { home, source } = await resolveKit(UI_KIT, log);
  return uiToolsIn(home, source);
}
