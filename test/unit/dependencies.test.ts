import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');

/** The README's production dependency table: `| \`name\` | version |` rows under its heading. */
function readmeDependencies(): Record<string, string> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('### Production dependencies');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const rows = [...section.matchAll(/^\| `([^`]+)` +\| ([^ |]+) +\|$/gm)];
  return Object.fromEntries(rows.map((row) => [row[1], row[2]]));
}

describe('production dependencies', () => {
  it('are listed in the README with the exact versions package.json pins', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const version of Object.values(manifest.dependencies)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readmeDependencies()).toEqual(manifest.dependencies);
  });
});
