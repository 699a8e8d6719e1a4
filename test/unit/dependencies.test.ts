import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');

/** The README's production dependencies: `` `name` version `` pairs under its heading. */
function documentedDependencies(): Record<string, string> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Dependencies\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const next = readme.slice(start + 1).search(/\n#{1,2} /);
  const section = readme.slice(start, next === -1 ? undefined : start + 1 + next);
  const pairs = [...section.matchAll(/`([^`]+)`\s+(\d+\.\d+\.\d+)\b/g)];
  return Object.fromEntries(pairs.map((pair) => [pair[1], pair[2]]));
}

describe('production dependencies', () => {
  it('are listed in the README with the exact versions package.json pins', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const version of Object.values(manifest.dependencies)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(documentedDependencies()).toEqual(manifest.dependencies);
  });
});
