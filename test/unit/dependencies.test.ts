import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');

/** docs/deploy.md's production dependency table: `| \`name\` | version |` rows under its heading. */
function documentedDependencies(): Record<string, string> {
  const deploy = readFileSync(path.join(root, 'docs', 'deploy.md'), 'utf8');
  const start = deploy.indexOf('\n### Production dependencies\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const next = deploy.slice(start + 1).search(/\n#{1,3} /);
  const section = deploy.slice(start, next === -1 ? undefined : start + 1 + next);
  const rows = [...section.matchAll(/^\| `([^`]+)` +\| ([^ |]+) +\|$/gm)];
  return Object.fromEntries(rows.map((row) => [row[1], row[2]]));
}

describe('production dependencies', () => {
  it('are listed in docs/deploy.md with the exact versions package.json pins', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const version of Object.values(manifest.dependencies)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(documentedDependencies()).toEqual(manifest.dependencies);
  });
});
