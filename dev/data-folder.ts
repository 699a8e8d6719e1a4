import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a data folder of `npm run dev` holds: a developer's own data, the sample data of
 * `npm run dev -- --demo`, or the production engine's of `npm run cluster` (Temporal's history in
 * PostgreSQL, not SQLite). A marker file says which, so demo tickets are never written among a
 * developer's, nor one engine's data handed to the other.
 */
export type DataKind = 'development' | 'demo' | 'cluster';
const KINDS: readonly DataKind[] = ['development', 'demo', 'cluster'];
/** What a run of each kind is called, and where it keeps its data when DEV_DATA_DIR is unset. */
const RUNS: Record<DataKind, { command: string; folder: string; holds: string }> = {
  development: { command: 'npm run dev', folder: '.data', holds: 'development data' },
  demo: { command: 'npm run dev -- --demo', folder: '.data-demo', holds: "the demo's sample data" },
  cluster: { command: 'npm run cluster', folder: '.data-cluster', holds: "npm run cluster's data" },
};
export const DATA_MARKER = 'aftercare-data.json';

export class DataFolderError extends Error {
  override name = 'DataFolderError';
}

function markedKind(marker: string): DataKind {
  let kind: unknown;
  try {
    kind = (JSON.parse(readFileSync(marker, 'utf8')) as { kind?: unknown }).kind;
  } catch {
    kind = undefined;
  }
  if (KINDS.includes(kind as DataKind)) return kind as DataKind;
  throw new DataFolderError(
    `${marker} is not a marker npm run dev wrote: it should read ${KINDS.map((name) => `{"kind":"${name}"}`).join(', ')}`,
  );
}

/**
 * Takes `dir` for data of `kind`: an empty or new folder is marked for it; a folder marked for the
 * other kind is refused with what to do instead. A folder with data but no marker was made before
 * the marker existed, by a development run.
 */
export function claimDataFolder(dir: string, kind: DataKind): void {
  mkdirSync(dir, { recursive: true });
  const marker = path.join(dir, DATA_MARKER);
  const marked = existsSync(marker);
  const found = marked ? markedKind(marker) : readdirSync(dir).length > 0 ? 'development' : kind;
  if (found === 'development' && kind === 'demo') {
    throw new DataFolderError(
      `${dir} holds development data: --demo never puts its sample tickets there. Leave DEV_DATA_DIR unset (the demo keeps its data in .data-demo) or name an empty folder.`,
    );
  }
  if (found !== kind) {
    const run = RUNS[kind];
    throw new DataFolderError(
      `${dir} holds ${RUNS[found].holds}: run \`${RUNS[found].command}\` to go on with it, or delete the folder; ${run.command} keeps its own data apart from it (in ${run.folder} unless DEV_DATA_DIR names another folder).`,
    );
  }
  if (!marked) writeFileSync(marker, `${JSON.stringify({ kind })}\n`);
}
