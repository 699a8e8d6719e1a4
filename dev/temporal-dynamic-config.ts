import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../temporal/binaries';

/**
 * Aftercare's Temporal dynamic configuration (the file says why each value): the compose file mounts
 * it into the server, `npm run cluster` starts its server with it, and the dev server is given the
 * same values on its command line.
 */
export const TEMPORAL_DYNAMIC_CONFIG = path.join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');

type DynamicConfig = Record<string, readonly { readonly value: unknown; readonly constraints?: unknown }[]>;

/** The file's values as the dev server's `--dynamic-config-value KEY=VALUE` arguments. */
export function dynamicConfigArguments(file = TEMPORAL_DYNAMIC_CONFIG): string[] {
  const config = parse(readFileSync(file, 'utf8')) as DynamicConfig;
  return Object.entries(config).flatMap(([key, values]) => {
    const [only, ...more] = values;
    if (!only || more.length > 0 || only.constraints !== undefined) {
      throw new Error(`${file}: ${key} must have one value without constraints to pass to the dev server`);
    }
    return ['--dynamic-config-value', `${key}=${JSON.stringify(only.value)}`];
  });
}
