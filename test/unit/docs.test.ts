import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The README is the front door and `docs/` holds the rest: the README stays under 15,000 bytes,
 * every relative link in README.md and docs/*.md reaches a file that exists, and every `#anchor`
 * names a heading of the file it points into (GitHub's heading ids), so a moved or renamed section
 * cannot leave a dead link behind.
 */
const ROOT = path.join(__dirname, '..', '..');
const README_LIMIT = 15_000;
const markdownFiles = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The lines of a Markdown text outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

/**
 * The id GitHub gives a heading: its rendered text (code spans and links reduced to their text,
 * emphasis markers and HTML tags gone), lower-cased, without punctuation other than hyphens and
 * underscores, each space a hyphen. Letters and digits of any script stay (`售后服务`).
 */
function githubSlug(heading: string): string {
  return heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\*/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every heading id of a Markdown text, with GitHub's `-1`, `-2` … suffixes for repeats. */
function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    ids.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return ids;
}

/** The targets of the inline links and images of a Markdown text, outside code. */
function linkTargets(markdown: string): string[] {
  return proseLines(markdown).flatMap((line) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
      (match) => match[1] as string,
    ),
  );
}

const isRelative = (target: string) => !/^[a-z][a-z0-9+.-]*:/i.test(target);

/** The dead relative links of one file, each as `target: why`. */
function deadLinks(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const dead: string[] = [];
  for (const target of linkTargets(text).filter(isRelative)) {
    const [pathPart = '', anchor] = target.split('#', 2);
    const resolved = pathPart === '' ? path.join(ROOT, file) : path.join(ROOT, path.dirname(file), pathPart);
    if (!existsSync(resolved)) {
      dead.push(`${target}: no such file`);
      continue;
    }
    if (anchor === undefined || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) continue;
    if (!headingIds(readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor))) {
      dead.push(`${target}: no heading #${anchor} in ${path.relative(ROOT, resolved)}`);
    }
  }
  return dead;
}

describe('GitHub heading ids', () => {
  it('drop punctuation and code marks, keep hyphens, underscores and letters of any script', () => {
    expect(githubSlug("Temporal UI — the operator's runbook")).toBe('temporal-ui--the-operators-runbook');
    expect(githubSlug('The storm (run N: one full `npm run bench`, round 19)')).toBe(
      'the-storm-run-n-one-full-npm-run-bench-round-19',
    );
    expect(githubSlug('HTTP API (v1)')).toBe('http-api-v1');
    expect(githubSlug('售后服务 and `WORKER_MAX_CACHED_WORKFLOWS`')).toBe(
      '售后服务-and-worker_max_cached_workflows',
    );
    expect(githubSlug('[Deploy](deploy.md) **now**')).toBe('deploy-now');
  });

  it('number repeated headings and ignore lines in code blocks', () => {
    const ids = headingIds('# Tests\n\n## Tests\n\n```bash\n# not a heading\n```\n\n### Chaos run ###\n');
    expect([...ids]).toEqual(['tests', 'tests-1', 'chaos-run']);
  });

  it('find inline links outside code, with or without a title', () => {
    const text = '[a](docs/a.md#x) `[b](b.md)` ![c](c.png "C")\n```\n[d](d.md)\n```\n<https://e.example>';
    expect(linkTargets(text)).toEqual(['docs/a.md#x', 'c.png']);
  });
});

describe('the documentation', () => {
  it(`keeps README.md under ${README_LIMIT.toLocaleString('en')} bytes`, () => {
    expect(statSync(path.join(ROOT, 'README.md')).size).toBeLessThanOrEqual(README_LIMIT);
  });

  it.each(markdownFiles)('%s has no dead relative link or anchor', (file) => {
    expect(deadLinks(file)).toEqual([]);
  });

  it('links the README to every docs file and every docs file back to the README', () => {
    const readmeTargets = linkTargets(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    for (const file of markdownFiles.filter((name) => name.startsWith('docs/'))) {
      expect(readmeTargets.map((target) => target.split('#')[0])).toContain(file);
      expect(linkTargets(readFileSync(path.join(ROOT, file), 'utf8'))).toContain('../README.md');
    }
  });
});
