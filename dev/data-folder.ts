import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a data folder of `npm run dev` holds: a developer's own data, or the sample data of
 * `npm run dev -- --demo`. A marker file says which, so demo tickets are never written among a
 * developer's (nor a developer's work among the demo's).
 */
export type DataKind = 'development' | 'demo';
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
  if (kind === 'development' || kind === 'demo') return kind;
  throw new DataFolderError(
    `${marker} is not a marker npm run dev wrote: it should read {"kind":"development"} or {"kind":"demo"}`,
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
  if (found === 'demo' && kind === 'development') {
    throw new DataFolderError(
      `${dir} holds the demo's sample data: run \`npm run dev -- --demo\` to go on with it, or delete the folder; npm run dev keeps your own data apart from it.`,
    );
  }
  if (!marked) writeFileSync(marker, `${JSON.stringify({ kind })}\n`);
}
