import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_DIR } from '../temporal/binaries';

/**
 * Schemathesis, the OpenAPI conformance tester, installed from PyPI into `.tools/` like the Temporal
 * binaries: the exact versions of `requirements.txt` (Schemathesis and everything it imports), into a
 * folder of their own, with no virtual environment to create. Python 3 with pip is all it needs.
 */
const execFileAsync = promisify(execFile);

export const SCHEMATHESIS_VERSION = '4.32.5';
const REQUIREMENTS = path.join(__dirname, 'requirements.txt');
const TARGET = path.join(TOOLS_DIR, `schemathesis-${SCHEMATHESIS_VERSION}`);

export interface Schemathesis {
  /** The interpreter and the arguments before Schemathesis' own: `python3 -m schemathesis`. */
  readonly command: string;
  readonly args: readonly string[];
  /** Where the interpreter finds the installed packages. */
  readonly env: NodeJS.ProcessEnv;
}

async function pythonWithPip(): Promise<string> {
  for (const python of ['python3', 'python']) {
    const found = await execFileAsync(python, ['-m', 'pip', '--version']).then(
      () => true,
      () => false,
    );
    if (found) return python;
  }
  throw new Error('Schemathesis needs Python 3 with pip (Debian: apt-get install python3-pip)');
}

/** Installs into a scratch folder first, so a half-finished install is never picked up. */
export async function ensureSchemathesis(log: (line: string) => void): Promise<Schemathesis> {
  const python = await pythonWithPip();
  if (!existsSync(TARGET)) {
    const scratch = `${TARGET}.installing-${process.pid}`;
    log(
      `installing Schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${path.relative(process.cwd(), TARGET)}/`,
    );
    mkdirSync(TOOLS_DIR, { recursive: true });
    rmSync(scratch, { recursive: true, force: true });
    try {
      await execFileAsync(
        python,
        [
          ...['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps'],
          ...['--target', scratch, '--requirement', REQUIREMENTS],
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      renameSync(scratch, TARGET);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return {
    command: python,
    args: ['-m', 'schemathesis.cli'],
    env: { ...process.env, PYTHONPATH: TARGET },
  };
}
