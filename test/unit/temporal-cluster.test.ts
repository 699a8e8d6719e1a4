import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_TUNING, initScriptStatements, serverEnvironment } from '../../dev/temporal-cluster';
import { missingTools, missingUiTools, serverToolsIn, uiToolsIn } from '../../temporal/server-binaries';

const ROOT = path.resolve(__dirname, '..', '..');
const database = { host: '127.0.0.1', port: 54329, user: 'aftercare', password: 'secret' };
const scratch: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aftercare-cluster-'));
  scratch.push(dir);
  return dir;
};
afterEach(() => scratch.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('the Temporal server environment of npm run cluster', () => {
  const environment = serverEnvironment({ database, port: 7233, dynamicConfigFile: '/tools/dc.yaml' });

  it('keeps both stores in the given PostgreSQL: the image template reads DB_PORT for one, POSTGRES_PORT for the other', () => {
    expect(environment).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: '54329',
      POSTGRES_PORT: '54329',
      POSTGRES_USER: 'aftercare',
      POSTGRES_PWD: 'secret',
      DYNAMIC_CONFIG_FILE_PATH: '/tools/dc.yaml',
      NUM_HISTORY_SHARDS: CLUSTER_TUNING.NUM_HISTORY_SHARDS,
    });
    expect(
      serverEnvironment({ database, port: 7233, dynamicConfigFile: '', tuning: { SQL_VIS_MAX_CONNS: '4' } }),
    ).toMatchObject({ SQL_VIS_MAX_CONNS: '4', SQL_MAX_CONNS: CLUSTER_TUNING.SQL_MAX_CONNS });
  });

  it('puts the frontend on the given port and every other listener on a port of its own, on loopback', () => {
    expect(environment.FRONTEND_GRPC_PORT).toBe('7233');
    expect(environment.BIND_ON_IP).toBe('127.0.0.1');
    const ports = Object.entries(environment)
      .filter(([name]) => name.endsWith('_PORT') && !['DB_PORT', 'POSTGRES_PORT'].includes(name))
      .map(([, port]) => port);
    expect(ports).toHaveLength(9);
    expect(new Set(ports).size).toBe(ports.length);
    const moved = serverEnvironment({ database, port: 17233, dynamicConfigFile: '' });
    expect(moved.FRONTEND_GRPC_PORT).toBe('17233');
    expect(moved.HISTORY_GRPC_PORT).toBe('17234');
    // Membership ports go into a smallint column: a frontend port whose would not fit is refused.
    expect(() => serverEnvironment({ database, port: 36_000, dynamicConfigFile: '' })).toThrow(
      "the Temporal server's port must be between 1324 and 33061",
    );
  });
});

describe('deploy/temporal/setup-schema.sh, shared by the compose file and npm run cluster', () => {
  it('sets up and updates both schemas with the tool, folder, host and port it is given', () => {
    const dir = tempDir();
    const calls = path.join(dir, 'calls');
    const tool = path.join(dir, 'fake-sql-tool');
    writeFileSync(tool, `#!/bin/sh\necho "$*" >> "${calls}"\n`);
    chmodSync(tool, 0o755);
    execFileSync('sh', [path.join(ROOT, 'deploy', 'temporal', 'setup-schema.sh')], {
      env: {
        PATH: process.env.PATH,
        TEMPORAL_SQL_TOOL: tool,
        TEMPORAL_SCHEMA_DIR: '/opt/schema',
        POSTGRES_SEEDS: '127.0.0.1',
        DB_PORT: '54329',
        POSTGRES_USER: 'aftercare',
      },
    });
    const common = '--plugin postgres12 --ep 127.0.0.1 -u aftercare -p 54329';
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual([
      `${common} --db temporal setup-schema -v 0.0`,
      `${common} --db temporal update-schema -d /opt/schema/postgresql/v12/temporal/versioned`,
      `${common} --db temporal_visibility setup-schema -v 0.0`,
      `${common} --db temporal_visibility update-schema -d /opt/schema/postgresql/v12/visibility/versioned`,
    ]);
  });
});

describe('the Temporal server and UI tools folders', () => {
  it('names what a folder lacks, and nothing once it holds the binaries, schemas and the image configuration', () => {
    const home = tempDir();
    const tools = serverToolsIn(home, 'tools');
    expect(missingTools(tools)).toHaveLength(5);
    mkdirSync(path.join(home, 'bin'));
    for (const file of [tools.server, tools.sqlTool]) {
      writeFileSync(file, '#!/bin/sh\n');
      chmodSync(file, 0o755);
    }
    for (const part of ['temporal', 'visibility']) {
      mkdirSync(path.join(tools.schemaDir, 'postgresql', 'v12', part, 'versioned'), { recursive: true });
    }
    expect(missingTools(tools)).toEqual([path.join(home, 'config', 'docker.yaml')]);
    mkdirSync(path.join(home, 'config'));
    writeFileSync(path.join(home, 'config', 'docker.yaml'), '# enable-template\n');
    expect(missingTools(tools)).toEqual([]);
  });

  it('takes a UI binary that cannot run as missing', () => {
    const home = tempDir();
    const ui = uiToolsIn(home, 'tools');
    mkdirSync(path.join(home, 'bin'));
    mkdirSync(path.join(home, 'config'));
    writeFileSync(path.join(home, 'config', 'docker.yaml'), '');
    writeFileSync(ui.server, '');
    expect(missingUiTools(ui)).toEqual([ui.server]);
    chmodSync(ui.server, 0o755);
    expect(missingUiTools(ui)).toEqual([]);
  });
});

describe("deploy/postgres/init-aftercare.sh, run by the compose file's PostgreSQL and by npm run cluster", () => {
  const script = readFileSync(path.join(ROOT, 'deploy', 'postgres', 'init-aftercare.sh'), 'utf8');

  it('gives the statements one at a time, per database, with the passwords as quoted literals', () => {
    const groups = initScriptStatements(script, { temporal_password: "t'1", aftercare_password: 'a2' });
    expect(groups.map((group) => group.database)).toEqual(['postgres', 'temporal_visibility']);
    const [roles, visibility] = groups;
    expect(roles?.statements).toEqual([
      "CREATE ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 't''1';",
      'CREATE DATABASE temporal OWNER temporal;',
      'CREATE DATABASE temporal_visibility OWNER temporal;',
      "CREATE ROLE aftercare LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'a2';",
      'CREATE DATABASE aftercare OWNER aftercare;',
    ]);
    expect(visibility?.statements).toEqual(['CREATE EXTENSION IF NOT EXISTS btree_gin;']);
  });

  it('refuses a script that asks for a variable it is not given', () => {
    const asking = script.replace("PASSWORD :'aftercare_password'", "PASSWORD :'other_password'");
    expect(() => initScriptStatements(asking, { temporal_password: 't', aftercare_password: 'a' })).toThrow(
      "init-aftercare.sh asks for :'other_password', which is not given",
    );
  });
});
