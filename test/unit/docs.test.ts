/**
 * The documentation holds together: every relative link in README.md and the book under docs/
 * reaches a file of the repository (and a heading of it, for a #fragment), and the CLI reference
 * is what the CLI prints. Links to http(s) URLs are not fetched: the test stays offline.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cliReference } from '../../node/cli/reference.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** README.md, bench/RESULTS.md and every Markdown file under docs/, as paths from the root. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) return walk(path);
      return e.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', 'bench/RESULTS.md', ...walk('docs')].sort();
}

/** The lines of a Markdown file that are prose, not fenced code (links inside code are not links). */
function proseLines(text: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m !== null) {
      if (fence === undefined) fence = m[1]![0]!;
      else if (m[1]![0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line, n: i + 1 });
  });
  return out;
}

/** Inline code spans removed, so that `[x](y)` written as code is not taken for a link. */
const withoutCode = (line: string) => line.replace(/(`+)[^`]*?\1/g, '');

/** Every link target of a file: inline links and images `[t](target "title")`, and definitions `[id]: target`. */
function links(text: string): { target: string; n: number }[] {
  const out: { target: string; n: number }[] = [];
  for (const { line, n } of proseLines(text)) {
    const prose = withoutCode(line);
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, n });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(prose);
    if (def !== null) out.push({ target: def[1]!, n });
  }
  return out;
}

/**
 * GitHub's anchor for a heading (github-slugger): the heading's text as rendered (link targets,
 * code backticks and emphasis marks dropped), lower-cased, every character that is not a letter,
 * mark, digit, connector (`_`), hyphen or space removed, each space turned into a hyphen; a
 * repeated anchor gets `-1`, `-2`, ... in order.
 */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { line } of proseLines(text)) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (h === null) continue;
    const rendered = h[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`/g, '')
      .replace(/<[^>]+>/g, '');
    const base = rendered
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.add(count === 0 ? base : `${base}-${count}`);
  }
  return out;
}

/** The problem with one link, or undefined when it resolves. */
function checkLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    return /^(https?|mailto):/i.test(target) ? undefined : `${target}: only http(s) and mailto links may leave the repository`;
  }
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const fragment = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const abs = pathPart === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), pathPart);
  const rel = relative(ROOT, abs);
  if (rel.startsWith('..') || rel.split(sep)[0] === 'node_modules') return `${target}: leaves the repository`;
  if (!existsSync(abs)) return `${target}: ${rel} does not exist`;
  if (fragment === undefined || fragment === '') return undefined;
  if (statSync(abs).isDirectory()) return `${target}: a #fragment on a directory`;
  if (!abs.endsWith('.md')) return /^L\d+(-L\d+)?$/.test(fragment) ? undefined : `${target}: #${fragment} in a file that is not Markdown`;
  return anchors(readFileSync(abs, 'utf8')).has(fragment) ? undefined : `${target}: ${rel} has no heading #${fragment}`;
}

describe('documentation', () => {
  const files = markdownFiles();

  it('has the front page and the book', () => {
    for (const f of ['README.md', 'docs/README.md', 'docs/running/cli.md', 'docs/threat-model.md']) expect(files).toContain(f);
  });

  it('has only relative links that reach a file of the repository and, with a #fragment, one of its headings', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const { target, n } of links(readFileSync(join(ROOT, file), 'utf8'))) {
        checked++;
        const problem = checkLink(file, target);
        if (problem !== undefined) broken.push(`${file}:${n}: ${problem}`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(50); // the parser found the links at all
  });

  it('never points outside the repository to the design notes (../shared)', () => {
    const offenders = files.filter((f) => readFileSync(join(ROOT, f), 'utf8').includes('../shared'));
    expect(offenders).toEqual([]);
  });

  it('finds GitHub anchors as GitHub makes them', () => {
    const a = anchors('# The `ai_` JSON-RPC\n## Provers: `ai-rollup prover`\n## Gas, L1 & [links](x.md)\n## Gas, L1 & links\n```\n# not a heading\n```\n');
    expect([...a]).toEqual(['the-ai_-json-rpc', 'provers-ai-rollup-prover', 'gas-l1--links', 'gas-l1--links-1']);
  });

  it('has the CLI reference the program generates (run `npm run docs:cli` after changing a flag)', () => {
    expect(readFileSync(join(ROOT, 'docs/running/cli.md'), 'utf8')).toBe(cliReference());
  });

  it('has, for `ai-rollup node`, exactly what the binary prints with --help', async () => {
    const reference = readFileSync(join(ROOT, 'docs/running/cli.md'), 'utf8');
    const section = /^## ai-rollup node\n\n```text\n([\s\S]*?)\n```$/m.exec(reference);
    expect(section).not.toBeNull();
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/ai-rollup.js'), 'node', '--help'], { cwd: ROOT });
    expect(stdout).toBe(`${section![1]}\n`);
  });
});
