import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, envSchema, loadConfig } from '../../config';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres';

/**
 * The docker-compose file's wiring, checked statically (there is no Docker engine in CI; the
 * syntax is checked by `docker-compose config -q`): every variable Aftercare's services set is one
 * the config reads, ports and the codec endpoint agree, and .env.example covers every secret.
 */
const ROOT = path.join(__dirname, '..', '..');
const composeText = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<
    string,
    {
      environment?: Record<string, string>;
      ports?: string[];
      command?: string[];
      depends_on?: Record<string, { condition: string }>;
      healthcheck?: { test: string[] };
      image?: string;
      build?: string;
      read_only?: boolean;
      cap_drop?: string[];
      cap_add?: string[];
      security_opt?: string[];
      tmpfs?: string[];
      mem_limit?: string;
      pids_limit?: number;
    }
  >;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const aftercare = ['migrate', 'api', 'worker'] as const;
const env = (service: string) => services[service]?.environment ?? {};
/** `[ip:]hostPort:containerPort` mappings; no ip means every interface of the host. */
const published = (service: string) =>
  (services[service]?.ports ?? []).map((mapping) => {
    const parts = mapping.split(':');
    const [inside, outside] = [Number(parts.at(-1)), Number(parts.at(-2))];
    return { ip: parts.length === 3 ? parts[0] : '0.0.0.0', outside, inside };
  });
const hostPort = (service: string, containerPort: number) =>
  published(service).find(({ inside }) => inside === containerPort)?.outside;
/** Aftercare's own services: all run the image this repository builds. */
const ownImage = ['migrate', 'api', 'worker', 'relay'] as const;

describe('docker-compose.yml', () => {
  it.each(aftercare)('%s sets only variables the config reads', (service) => {
    const known = Object.keys(envSchema.shape);
    expect(Object.keys(env(service)).filter((name) => !known.includes(name))).toEqual([]);
    expect(env(service).NODE_ENV).toBe('production');
  });

  it('runs the built image: migrations, API and worker from dist/', () => {
    expect(services.migrate?.command).toEqual(['node', 'dist/db/migrate-main.js']);
    expect(services.api?.command).toEqual(['node', 'dist/api/main.js']);
    expect(services.worker?.command).toEqual(['node', 'dist/worker/main.js']);
    for (const service of aftercare) expect(services[service]?.image).toBe('aftercare:latest');
    // The worker scales with --scale worker=N: no fixed name, no published port.
    expect(services.worker?.ports).toBeUndefined();
  });

  it('publishes the API on its PORT and health-checks that port', () => {
    const port = Number(env('api').PORT);
    expect(hostPort('api', port)).toBe(port);
    expect(services.api?.healthcheck?.test.join(' ')).toContain(`http://localhost:${port}/readyz`);
    const metricsPort = Number(env('worker').WORKER_METRICS_ADDRESS?.split(':').at(-1));
    expect(services.worker?.healthcheck?.test.join(' ')).toContain(`http://localhost:${metricsPort}/metrics`);
  });

  it('wires Temporal UI to the codec endpoint, with CORS agreeing both ways', () => {
    const ui = env('temporal-ui');
    const apiOrigin = `http://localhost:${hostPort('api', Number(env('api').PORT))}`;
    const uiOrigin = `http://localhost:${hostPort('temporal-ui', 8080)}`;
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe(`${apiOrigin}/codec`);
    expect(ui.TEMPORAL_CORS_ORIGINS?.split(',')).toContain(apiOrigin);
    expect(env('api').CODEC_CORS_ORIGINS?.split(',')).toContain(uiOrigin);
    expect(ui.TEMPORAL_ADDRESS).toBe(env('api').TEMPORAL_ADDRESS);
  });

  it('points Aftercare at the compose services, and waits for them', () => {
    expect(env('api').TEMPORAL_ADDRESS).toBe('temporal:7233');
    const databaseUrl = (env('api').DATABASE_URL ?? '').replace(/\$\{[^}]+\}/g, 'secret');
    expect(new URL(databaseUrl).hostname).toBe('postgresql');
    expect(services.api?.depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      'temporal-register': { condition: 'service_completed_successfully' },
    });
    for (const service of Object.values(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect(services).toHaveProperty(dependency);
    }
    expect(Object.keys(compose.volumes)).toContain('postgres-data');
  });

  it('takes every secret from .env, and .env.example names each one', () => {
    const required = [...composeText.matchAll(/\$\{(\w+):\?/g)].map((match) => match[1]);
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const named = [...example.matchAll(/^(\w+)=/gm)].map((match) => match[1]);
    expect(new Set(required).size).toBeGreaterThan(3);
    expect([...new Set(required)].filter((name) => !named.includes(name))).toEqual([]);
  });
});

describe('docker-compose.yml hardening', () => {
  it('publishes only the API beyond this host; Temporal UI is on 127.0.0.1 and read-only', () => {
    const everywhere = Object.keys(services).filter((service) =>
      published(service).some(({ ip }) => ip !== '127.0.0.1'),
    );
    expect(everywhere).toEqual(['api']);
    expect(published('temporal-ui')).toEqual([{ ip: '127.0.0.1', outside: 8080, inside: 8080 }]);
    expect(env('temporal-ui').TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
  });

  it.each(Object.keys(services))(
    '%s drops capabilities, cannot gain privileges, and is limited',
    (service) => {
      const definition = services[service];
      expect(definition?.cap_drop).toEqual(['ALL']);
      expect(definition?.security_opt).toContain('no-new-privileges:true');
      expect(definition?.mem_limit).toMatch(/^\d+[mg]$/);
      expect(definition?.pids_limit).toBeGreaterThan(0);
    },
  );

  it('gives capabilities back only to PostgreSQL, whose entrypoint switches to the postgres user', () => {
    const withCapabilities = Object.keys(services).filter((service) => services[service]?.cap_add);
    expect(withCapabilities).toEqual(['postgresql']);
    expect(services.postgresql?.cap_add).not.toContain('SYS_ADMIN');
  });

  it.each(ownImage)('%s runs on a read-only root filesystem with a small /tmp', (service) => {
    expect(services[service]?.read_only).toBe(true);
    expect(services[service]?.tmpfs).toEqual(['/tmp:size=16m']);
  });

  it('runs Temporal as its own PostgreSQL role, not the superuser', () => {
    const superuser = env('postgresql').POSTGRES_USER;
    for (const service of ['temporal', 'temporal-schema']) {
      expect(env(service).POSTGRES_USER).toBe('temporal');
      expect(env(service).POSTGRES_USER).not.toBe(superuser);
      expect(env(service).POSTGRES_PWD).toMatch(/^\$\{TEMPORAL_DB_PASSWORD:\?/);
    }
    expect(env('temporal-schema').SQL_PASSWORD).toMatch(/^\$\{TEMPORAL_DB_PASSWORD:\?/);
    // The schema job no longer creates databases: only the superuser's init script does.
    const setupSchema = readFileSync(path.join(ROOT, 'deploy', 'temporal', 'setup-schema.sh'), 'utf8');
    expect(setupSchema).not.toMatch(/--db "\$db" create/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('copies the app as root, so the node user it runs as cannot rewrite it', () => {
    const copies = runtime.split('\n').filter((line) => line.startsWith('COPY'));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).not.toMatch(/--chown|--chmod/);
    expect(runtime.indexOf('\nUSER node')).toBeGreaterThan(runtime.lastIndexOf('\nCOPY'));
  });

  it('runs in production mode and listens on every interface inside the container', () => {
    expect(runtime).toMatch(/^ENV NODE_ENV=production HOST=0\.0\.0\.0$/m);
  });
});

describe('.env.example and deploy/generate-env.sh', () => {
  const parseEnv = (text: string) =>
    Object.fromEntries([...text.matchAll(/^(\w+)=(.*)$/gm)].map((match) => [match[1] ?? '', match[2] ?? '']));
  const example = parseEnv(readFileSync(path.join(ROOT, '.env.example'), 'utf8'));
  const generate = () =>
    parseEnv(execFileSync('sh', [path.join(ROOT, 'deploy', 'generate-env.sh')], { encoding: 'utf8' }));
  const required = [...new Set([...composeText.matchAll(/\$\{(\w+):\?/g)].map((match) => match[1] ?? ''))];
  /** Aftercare's settings as docker-compose.yml gives them to the API, with these secrets. */
  const apiEnv = (secrets: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(env('api')).map(([name, value]) => [
        name,
        value.replace(/\$\{(\w+):\?[^}]*\}/g, (_, secret: string) => secrets[secret] ?? ''),
      ]),
    );

  it('ships every secret empty: there is no placeholder to deploy by mistake', () => {
    expect(Object.keys(example).sort()).toEqual([...required].sort());
    expect(Object.entries(example).filter(([, value]) => value !== '')).toEqual([]);
  });

  it('generates a fresh random value for every secret, each time', () => {
    const [first, second] = [generate(), generate()];
    expect(Object.keys(first).sort()).toEqual(Object.keys(example).sort());
    for (const name of required) {
      expect(first[name]?.length).toBeGreaterThanOrEqual(32);
      expect(first[name]).not.toBe(second[name]);
    }
    // Passwords go into DATABASE_URL: nothing that needs escaping there.
    for (const name of ['POSTGRES_PASSWORD', 'TEMPORAL_DB_PASSWORD', 'AFTERCARE_DB_PASSWORD'])
      expect(first[name]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('makes secrets production accepts, where the shipped file is refused', () => {
    const config = loadConfig(apiEnv(generate()));
    expect(config.env).toBe('production');
    expect(config.apiKeys).toHaveLength(1);
    expect(config.payloadKeys).toHaveLength(1);
    expect(new URL(config.databaseUrl ?? '').username).toBe('aftercare');
    expect(() => loadConfig(apiEnv(example))).toThrow(ConfigError);
  });
});

describe('deploy/postgres/init-aftercare.sh', () => {
  /** Passwords a careless init script would paste into its SQL: quotes, a statement, a psql command. */
  const TEMPORAL_PASSWORD = `it's"odd'; ALTER ROLE temporal SUPERUSER; --`;
  const AFTERCARE_PASSWORD = `x'\n\\connect postgres\nDROP ROLE postgres; -- ':pw \\\\`;

  it('creates unprivileged roles for Temporal and Aftercare with their passwords taken literally', async () => {
    // A fresh cluster, as PostgreSQL's image creates it: the init script runs as superuser "postgres".
    const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-init-'));
    // As root, PostgreSQL runs as the postgres user, which must be able to enter the folder.
    chmodSync(scratch, 0o755);
    const port = randomInt(41_000, 49_000);
    const cluster = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), port });
    const url = (user: string, password: string, database: string) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
    const run = async <T>(connection: string, query: (sql: postgres.Sql) => Promise<T>) => {
      const sql = postgres(connection, { max: 1, onnotice: () => undefined });
      try {
        return await query(sql);
      } finally {
        await sql.end();
      }
    };
    try {
      // The test cluster's bootstrap superuser is "aftercare", the name the script creates: rename it.
      await run(
        cluster.url,
        (sql) => sql`CREATE ROLE postgres SUPERUSER CREATEDB CREATEROLE LOGIN PASSWORD 'superuser'`,
      );
      await run(url('postgres', 'superuser', 'postgres'), async (sql) => {
        await sql`DROP DATABASE aftercare`;
        await sql`ALTER ROLE aftercare RENAME TO bootstrap`;
      });
      execFileSync('sh', [path.join(ROOT, 'deploy', 'postgres', 'init-aftercare.sh')], {
        env: {
          PATH: process.env.PATH,
          PGHOST: '127.0.0.1',
          PGPORT: String(port),
          PGPASSWORD: 'superuser',
          POSTGRES_USER: 'postgres',
          TEMPORAL_DB_PASSWORD: TEMPORAL_PASSWORD,
          AFTERCARE_DB_PASSWORD: AFTERCARE_PASSWORD,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const roles = await run(
        url('temporal', TEMPORAL_PASSWORD, 'temporal'),
        (sql) => sql`SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles
          WHERE rolname IN ('temporal', 'aftercare', 'postgres') ORDER BY rolname`,
      );
      expect(roles.map((role) => ({ ...role }))).toEqual([
        { rolname: 'aftercare', rolsuper: false, rolcreatedb: false, rolcreaterole: false },
        { rolname: 'postgres', rolsuper: true, rolcreatedb: true, rolcreaterole: true },
        { rolname: 'temporal', rolsuper: false, rolcreatedb: false, rolcreaterole: false },
      ]);
      const owners = await run(
        url('temporal', TEMPORAL_PASSWORD, 'temporal_visibility'),
        (sql) => sql`SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database
          WHERE datname IN ('temporal', 'temporal_visibility', 'aftercare') ORDER BY datname`,
      );
      expect(owners.map((row) => ({ ...row }))).toEqual([
        { datname: 'aftercare', owner: 'aftercare' },
        { datname: 'temporal', owner: 'temporal' },
        { datname: 'temporal_visibility', owner: 'temporal' },
      ]);
      const extensions = await run(
        url('temporal', TEMPORAL_PASSWORD, 'temporal_visibility'),
        (sql) => sql`SELECT extname FROM pg_extension WHERE extname = 'btree_gin'`,
      );
      expect(extensions).toHaveLength(1);
      const [aftercare] = await run(
        url('aftercare', AFTERCARE_PASSWORD, 'aftercare'),
        (sql) => sql`SELECT current_user AS user, current_database() AS database`,
      );
      expect({ ...aftercare }).toEqual({ user: 'aftercare', database: 'aftercare' });
    } finally {
      await cluster.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
