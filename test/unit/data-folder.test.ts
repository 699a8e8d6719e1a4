import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimDataFolder, DATA_MARKER, DataFolderError } from '../../dev/data-folder';

const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-data-folder-'));
let count = 0;
const folder = () => path.join(scratch, `folder-${(count += 1)}`);
const marker = (dir: string) => JSON.parse(readFileSync(path.join(dir, DATA_MARKER), 'utf8')) as unknown;

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the data folder of npm run dev', () => {
  it('marks a new or empty folder for the kind of data that goes in it', () => {
    const demo = folder();
    claimDataFolder(demo, 'demo');
    expect(marker(demo)).toEqual({ kind: 'demo' });
    const development = folder();
    mkdirSync(development);
    claimDataFolder(development, 'development');
    expect(marker(development)).toEqual({ kind: 'development' });
    // A second run of the same kind takes it again.
    expect(() => claimDataFolder(demo, 'demo')).not.toThrow();
  });

  it('--demo refuses a folder of development data, marked or from before the marker', () => {
    const marked = folder();
    claimDataFolder(marked, 'development');
    expect(() => claimDataFolder(marked, 'demo')).toThrow(DataFolderError);
    expect(() => claimDataFolder(marked, 'demo')).toThrow(
      `${marked} holds development data: --demo never puts its sample tickets there`,
    );
    const unmarked = folder();
    mkdirSync(path.join(unmarked, 'postgres'), { recursive: true });
    expect(() => claimDataFolder(unmarked, 'demo')).toThrow('holds development data');
    // That older folder is development data: a development run marks it as such.
    claimDataFolder(unmarked, 'development');
    expect(marker(unmarked)).toEqual({ kind: 'development' });
  });

  it('npm run dev refuses the demo folder', () => {
    const demo = folder();
    claimDataFolder(demo, 'demo');
    writeFileSync(path.join(demo, 'temporal.sqlite'), '');
    expect(() => claimDataFolder(demo, 'development')).toThrow(
      `${demo} holds the demo's sample data: run \`npm run dev -- --demo\` to go on with it, or delete the folder`,
    );
  });

  it('npm run cluster and npm run dev never share a folder: each engine keeps its own history', () => {
    const cluster = folder();
    claimDataFolder(cluster, 'cluster');
    expect(marker(cluster)).toEqual({ kind: 'cluster' });
    expect(() => claimDataFolder(cluster, 'development')).toThrow(
      `${cluster} holds npm run cluster's data: run \`npm run cluster\` to go on with it, or delete the folder; npm run dev keeps its own data apart from it (in .data unless DEV_DATA_DIR names another folder).`,
    );
    const unmarked = folder();
    mkdirSync(path.join(unmarked, 'postgres'), { recursive: true });
    expect(() => claimDataFolder(unmarked, 'cluster')).toThrow(
      `${unmarked} holds development data: run \`npm run dev\` to go on with it, or delete the folder; npm run cluster keeps its own data apart from it (in .data-cluster`,
    );
  });

  it('refuses a marker it did not write', () => {
    const dir = folder();
    mkdirSync(dir);
    writeFileSync(path.join(dir, DATA_MARKER), '{"kind":"production"}');
    expect(() => claimDataFolder(dir, 'development')).toThrow(
      `${path.join(dir, DATA_MARKER)} is not a marker npm run dev wrote`,
    );
  });
});
