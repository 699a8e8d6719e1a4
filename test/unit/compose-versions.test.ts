import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER_TUNING } from '../../dev/temporal-cluster';
import { dynamicConfigArguments, TEMPORAL_DYNAMIC_CONFIG } from '../../dev/temporal-dynamic-config';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../../temporal/server-binaries';

/**
 * `npm run cluster` is the compose file's production shape without containers: it must run the
 * Temporal server, admin tools (schema) and UI versions the compose file pins, with the same server
 * settings. A bump on one side alone fails here.
 */
const ROOT = path.join(__dirname, '..', '..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; environment?: Record<string, string>; volumes?: string[] }>;
};
const tagsOf = (repository: string) =>
  Object.values(compose.services)
    .map((service) => service.image)
    .filter((image): image is string => image?.startsWith(`${repository}:`) ?? false)
    .map((image) => image.slice(repository.length + 1));

describe('docker-compose.yml and npm run cluster', () => {
  it('pin the same Temporal server, admin tools and UI versions', () => {
    expect(tagsOf('temporalio/server')).toEqual([TEMPORAL_SERVER_VERSION]);
    // Two jobs use the admin tools: the schema set-up and the search attribute registration.
    expect(tagsOf('temporalio/admin-tools')).toEqual([TEMPORAL_SERVER_VERSION, TEMPORAL_SERVER_VERSION]);
    expect(tagsOf('temporalio/ui')).toEqual([TEMPORAL_UI_VERSION]);
  });

  it('give the server the same shards and connection pools', () => {
    expect(compose.services.temporal?.environment).toMatchObject(CLUSTER_TUNING);
  });

  it('give the server the same dynamic configuration: one partition per task queue', () => {
    const mounted = compose.services.temporal?.environment?.DYNAMIC_CONFIG_FILE_PATH;
    expect(compose.services.temporal?.volumes).toContain(
      `./${path.relative(ROOT, TEMPORAL_DYNAMIC_CONFIG)}:${mounted}:ro`,
    );
    expect(parse(readFileSync(TEMPORAL_DYNAMIC_CONFIG, 'utf8'))).toEqual({
      'matching.numTaskqueueReadPartitions': [{ value: 1 }],
      'matching.numTaskqueueWritePartitions': [{ value: 1 }],
    });
  });

  it('give the dev server the same values on its command line, and refuse what it cannot take', () => {
    expect(dynamicConfigArguments()).toEqual([
      '--dynamic-config-value',
      'matching.numTaskqueueReadPartitions=1',
      '--dynamic-config-value',
      'matching.numTaskqueueWritePartitions=1',
    ]);
    const constrained = path.join(mkdtempSync(path.join(tmpdir(), 'dynamic-config-')), 'dc.yaml');
    writeFileSync(constrained, 'limit.maxIDLength:\n  - value: 255\n    constraints: { namespace: a }\n');
    expect(() => dynamicConfigArguments(constrained)).toThrow(
      'limit.maxIDLength must have one value without constraints',
    );
  });
});
