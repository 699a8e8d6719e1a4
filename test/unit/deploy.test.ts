import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envSchema } from '../../config';

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
    }
  >;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const aftercare = ['migrate', 'api', 'worker'] as const;
const env = (service: string) => services[service]?.environment ?? {};
const hostPort = (service: string, containerPort: number) =>
  services[service]?.ports
    ?.map((mapping) => mapping.split(':').map(Number))
    .find(([, inside]) => inside === containerPort)?.[0];

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
