/**
 * The docs name only things that exist. In README.md, docs/*.md and bench/peers/README.md:
 * - every relative markdown link resolves to a file, and its `#anchor` to a heading of that file
 *   (GitHub's slugs: lower case, punctuation dropped, spaces → `-`, `-1`, `-2` for repeats);
 * - every repository path in code spans and code blocks (`offline/export/…`, `test/…`,
 *   `bash scripts/bqemu.sh`: a path whose first folder is one of the repository's) exists (a `*`
 *   glob: matches at least one file);
 * - every backticked source file name (`pass.ts`, `lua/read-entities.lua`) is a file of the
 *   repository;
 * - every `npm run X` is a script in package.json;
 * - every `larder <command> … --option` (inline code or a code block) is a command of the CLI's
 *   command tree (with the project's plugins, as docs/cli.md renders it) and each `--option` is
 *   one of that command's or of its parents';
 * - the README's CLI table names every command of the CLI, and every folder of the layer rules
 *   (`.dependency-cruiser.cjs`) is in the README's Layout and docs/concepts.md's Structure;
 * - every `LARDER_*` name (error code, environment variable) and `larder_*` metric the docs name
 *   occurs in the code (product, tests, scripts, benchmarks, deploy files);
 * - every environment variable `config/` reads is in the README's Configuration table;
 * - every HTTP route the docs name (`POST /push`, `GET /ui/api/freshness`) is one `api/` serves;
 * - every local address (`127.0.0.1:N`, `localhost:N`), here and in the README `larder init`
 *   writes, is a port Larder or its services listen on by default (Feast's 6566 is not one).
 * docs/cli.md is generated from the same tree (test/cli/cli-docs.test.ts), so only its links are
 * checked here.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { scaffoldFiles } from '../../cli/commands/init-command.ts';
import { loadCommandPlugins } from '../../cli/plugin.ts';
import { buildProgram } from '../../cli/program.ts';
import { LarderConfigSchema } from '../../config/config.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'bench/peers/README.md',
];

/**
 * The allow-list: top-level folders that hold what a user or a run creates (git ignores them),
 * never what the repository ships, so a path into them (`data/raw/…`, `.cache/…`) is not checked.
 */
const UNTRACKED_TOP = new Set(['node_modules', '.git', '.cache', '.larder', 'data', 'dist']);

/** A document's prose (code blocks blanked) and its code blocks' lines. */
function split(text: string): { prose: string; code: string[] } {
  const prose: string[] = [];
  const code: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (marker.startsWith(fence)) fence = undefined;
      prose.push('');
      continue;
    }
    if (fence === undefined) prose.push(line);
    else {
      code.push(line);
      prose.push('');
    }
  }
  return { prose: prose.join('\n'), code };
}

/** The inline code spans of prose. */
function codeSpans(prose: string): string[] {
  return [...prose.matchAll(/(`+)([^`]+?)\1/g)].map((m) =>
    (m[2] ?? '').replace(/\s+/g, ' ').trim(),
  );
}

/** GitHub's anchor for a heading text. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a markdown file's headings, with GitHub's `-1`, `-2` for repeats. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of split(readFileSync(file, 'utf8')).prose.split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every file under dir, as paths from the repository root. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (UNTRACKED_TOP.has(e.name)) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(ROOT, p));
    }
  };
  if (existsSync(dir) && statSync(dir).isDirectory()) walk(dir);
  return out;
}

function globRegExp(glob: string): RegExp {
  const body = glob
    .split(/(\*\*\/|\*)/)
    .map((part) =>
      part === '**/'
        ? '(?:.*/)?'
        : part === '*'
          ? '[^/]*'
          : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * Whether a code span is a repository path and what is wrong with it: null when it is no
 * repository path (its first folder is none of the repository's), '' when it resolves.
 */
function checkPath(path: string, tops: Set<string>): string | null {
  const top = path.split('/')[0] ?? '';
  if (!/^[\w.-]+\/[\w.*/-]*$/.test(path) || !tops.has(top)) return null;
  if (path.includes('*')) {
    const re = globRegExp(path.replace(/\/$/, ''));
    return filesUnder(join(ROOT, top)).some((f) => re.test(f)) ? '' : 'matches no file';
  }
  const abs = join(ROOT, path);
  if (!existsSync(abs)) return 'does not exist';
  if (path.endsWith('/') && !statSync(abs).isDirectory()) return 'is not a folder';
  return '';
}

/** The words of a `larder …` command line, up to where the command ends. */
function commandWords(line: string): string[][] {
  const out: string[][] = [];
  for (const m of line.matchAll(/(?:^|[\s`(&;])(?:npx\s+)?larder\s+([^`#\n]*)/g)) {
    const words: string[] = [];
    for (const w of (m[1] ?? '').trim().split(/\s+/)) {
      if (/^(&&|\|\||;|>|2>|<<|\\|──>|→)$/.test(w)) break;
      words.push(w);
    }
    out.push(words);
  }
  return out;
}

interface Mention {
  file: string;
  text: string;
}

/** What is wrong with one `larder …` mention against the command tree (empty when nothing). */
function checkCommand(program: Command, words: string[]): string[] {
  const problems: string[] = [];
  const takesValue = (o: Option): boolean => o.required || o.optional;
  const lookup = (cmds: Command[], name: string): Option | undefined => {
    for (const c of cmds) {
      const o = c.options.find((x) => x.long === name || x.short === name);
      if (o) return o;
    }
    return undefined;
  };
  // The command path: the chain of commands the words name, descended while they name one.
  const chain: Command[] = [program];
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i] ?? '';
    const cmd = chain[chain.length - 1] ?? program;
    if (w.startsWith('-')) {
      const name = /^(--?[\w-]+)/.exec(w.replace(/^[[(]/, ''))?.[1];
      const o = name === undefined ? undefined : lookup([...chain].reverse(), name);
      if (o && takesValue(o) && !w.includes('=') && i + 1 < words.length) i++; // its value
      // An unknown option ends the command path here; the loop below reports it.
      if (!o && name !== undefined && !['--help', '-h', '--version'].includes(name)) break;
      continue;
    }
    if (cmd.commands.length === 0) break;
    const names = w.split('|');
    if (!names.every((n) => /^[a-z][a-z0-9-]*$/.test(n))) break;
    const subs = names.map((n) =>
      cmd.commands.find((c) => c.name() === n || c.aliases().includes(n)),
    );
    const unknown = names.filter((_, k) => subs[k] === undefined);
    if (unknown.length > 0) {
      problems.push(
        `\`larder ${chain
          .slice(1)
          .map((c) => c.name())
          .concat(unknown[0] ?? '')
          .join(' ')}\` is not a command`,
      );
      return problems;
    }
    // Alternatives (`plan|apply`) are checked each, with the rest of the line.
    if (subs.length > 1) {
      for (const n of names.slice(1))
        problems.push(
          ...checkCommand(program, [
            ...chain.slice(1).map((c) => c.name()),
            n,
            ...words.slice(i + 1),
          ]),
        );
    }
    chain.push(subs[0]!);
  }
  const scope = [...chain].reverse();
  const path = chain
    .slice(1)
    .map((c) => c.name())
    .join(' ');
  for (const w of words) {
    for (const m of w.matchAll(/(?:^|[[(|/])(--[a-z][\w-]*)/g)) {
      const name = m[1] ?? '';
      if (name === '--help' || name === '--version') continue;
      if (!lookup(scope, name)) problems.push(`\`larder ${path}\` has no option ${name}`);
    }
  }
  return problems;
}

describe('the docs name only things that exist', () => {
  let program: Command;
  const texts = new Map(DOCS.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
  const tops = new Set(
    readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !UNTRACKED_TOP.has(e.name))
      .map((e) => e.name),
  );

  beforeAll(async () => {
    program = buildProgram(await loadCommandPlugins(ROOT));
  });

  it('relative links resolve to files and their anchors to headings', () => {
    const problems: string[] = [];
    const cache = new Map<string, Set<string>>();
    let checked = 0;
    for (const [file, text] of texts) {
      const { prose } = split(text);
      const targets = [
        ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? ''),
        ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1] ?? ''),
      ];
      for (const target of targets) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        checked++;
        const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
        const abs =
          pathPart === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), decodeURI(pathPart));
        if (!existsSync(abs)) {
          problems.push(`${file}: link ${target}: ${relative(ROOT, abs)} does not exist`);
          continue;
        }
        if (anchor === undefined || !abs.endsWith('.md')) continue;
        const known = cache.get(abs) ?? anchors(abs);
        cache.set(abs, known);
        if (!known.has(anchor)) problems.push(`${file}: link ${target}: no heading #${anchor}`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(problems).toEqual([]);
  });

  it('repository paths in code (`test/…`, `bash scripts/bqemu.sh install`) exist', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [file, text] of texts) {
      const { prose, code } = split(text);
      // Each word of a code span or a code block line: a command names its script too.
      for (const word of [...codeSpans(prose), ...code].flatMap((c) => c.split(/[\s'"=]+/))) {
        const why = checkPath(word, tops);
        if (why === null) continue;
        checked++;
        if (why) problems.push(`${file}: \`${word}\` ${why}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('backticked source file names (`pass.ts`, `lua/read-entities.lua`) name a file of the repository', () => {
    // Written by `larder codegen` into the user's folder, not shipped.
    const generated = new Set(['client.ts']);
    const files = [
      ...readdirSync(ROOT, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name),
      ...[...tops].flatMap((t) => filesUnder(join(ROOT, t))),
    ];
    const problems: string[] = [];
    let checked = 0;
    for (const [file, text] of texts) {
      for (const span of codeSpans(split(text).prose)) {
        if (!/^[\w-][\w./-]*\.(ts|js|mjs|cjs|lua|sh|py|proto)$/.test(span)) continue;
        if (checkPath(span, tops) !== null || generated.has(span)) continue;
        // A dependency's own file (`kafkajs/src/consumer/fetcher.js`), named where its
        // behaviour is explained: it must exist in node_modules.
        if (existsSync(join(ROOT, 'node_modules', span))) continue;
        checked++;
        if (!files.some((f) => f === span || f.endsWith(`/${span}`)))
          problems.push(`${file}: \`${span}\` is no file of the repository`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it('every `npm run X` is a script in package.json', () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    const problems: string[] = [];
    for (const [file, text] of texts) {
      for (const m of text.matchAll(/npm run(?:\s+(?:--silent|-s))?\s+([\w:.-]+)/g)) {
        if (!((m[1] ?? '') in scripts)) problems.push(`${file}: npm run ${m[1]}: no such script`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every `larder <command> --option` is a command and option of the CLI', () => {
    const mentions: Mention[] = [];
    for (const [file, text] of texts) {
      if (file === 'docs/cli.md') continue;
      const { prose, code } = split(text);
      for (const span of codeSpans(prose))
        if (/^(npx\s+)?larder\s/.test(span)) mentions.push({ file, text: span });
      for (const line of code)
        if (/(?:^|[\s(&;])(?:npx\s+)?larder\s/.test(line)) mentions.push({ file, text: line });
    }
    const problems: string[] = [];
    for (const { file, text } of mentions)
      for (const words of commandWords(text))
        for (const p of checkCommand(program, words))
          problems.push(`${file}: ${text.trim()}: ${p}`);
    expect(mentions.length).toBeGreaterThan(50);
    expect(problems).toEqual([]);
  });

  it('local addresses name the ports Larder and its services listen on by default', () => {
    const defaults = LarderConfigSchema.parse({});
    const ports = new Set([
      defaults.serve.port, // larder serve
      defaults.serve.grpcPort, // its gRPC server
      ...defaults.kafka.brokers.map((b) => Number(b.split(':')[1])), // Kafka (scripts/services.sh)
      6379, // Redis (scripts/services.sh)
      9464, // the stream worker's metrics in the examples of --metrics-port
    ]);
    const problems: string[] = [];
    const docs: [string, string][] = [
      ...texts,
      ['README.md of larder init', scaffoldFiles(0)['README.md'] ?? ''],
    ];
    for (const [file, text] of docs)
      for (const m of text.matchAll(/\b(?:127\.0\.0\.1|localhost):(\d+)/g))
        if (!ports.has(Number(m[1]))) problems.push(`${file}: ${m[0]}`);
    expect(problems).toEqual([]);
  });

  it("the README's CLI table names every command", () => {
    const readme = texts.get('README.md') ?? '';
    const section = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n## Serving\n'));
    const missing = program.commands
      .map((c) => c.name())
      .filter((name) => !new RegExp(`(\`|larder )${name}(?![\\w-])`).test(section));
    expect(section.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it("the README's Layout and docs/concepts.md's Structure name every folder of the layer rules", () => {
    const rules = (
      createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as {
        forbidden: { name: string; from: { path?: string }; to: { path?: string } }[];
      }
    ).forbidden;
    // The lowest layer's rule: its own folders import none of the others (every product folder).
    const lowest = rules.find((r) => r.name.startsWith('layer-'));
    const folders = [lowest?.from.path, lowest?.to.path].flatMap(
      (p) => /^\^\(([^)]*)\)\/$/.exec(p ?? '')?.[1]?.split('|') ?? [],
    );
    const readme = texts.get('README.md') ?? '';
    const layout = readme.slice(readme.indexOf('\n- Layout'), readme.indexOf('\n## Fuzzing\n'));
    const concepts = texts.get('docs/concepts.md') ?? '';
    const structure = concepts.slice(concepts.indexOf('\n## Structure\n'));
    expect(folders).toContain('core');
    expect(folders).toContain('cli');
    const missing = folders.flatMap((f) => [
      ...(layout.includes(`\`${f}/\``) ? [] : [`README.md Layout: ${f}/`]),
      ...(structure.includes(`\`${f}/\``) ? [] : [`docs/concepts.md Structure: ${f}/`]),
    ]);
    expect(missing).toEqual([]);
  });

  it('every LARDER_* name and larder_* metric the docs name occurs in the code', () => {
    // A variable of the reader's own program in docs/client.md's examples, not Larder's.
    const notLarders = new Set(['LARDER_KEY']);
    const code = [...tops]
      .filter((t) => t !== 'docs')
      .flatMap((t) => filesUnder(join(ROOT, t)))
      .filter((f) => /\.(ts|js|cjs|mjs|sh|lua|ya?ml|json)$|Dockerfile$/.test(f))
      // Not this file: the names it uses as examples must not vouch for themselves.
      .filter((f) => !f.endsWith('package-lock.json') && f !== relative(ROOT, import.meta.filename))
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n');
    const problems: string[] = [];
    let checked = 0;
    for (const [file, text] of texts) {
      for (const m of text.matchAll(
        /\b(LARDER_[A-Z0-9_]*[A-Z0-9]|larder_[a-z0-9_]*[a-z0-9])\b(?![.\w])/g,
      )) {
        const name = m[1] ?? '';
        if (notLarders.has(name)) continue;
        checked++;
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (!code.includes(name) && !code.includes(base)) problems.push(`${file}: ${name}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect([...new Set(problems)]).toEqual([]);
  });

  it('every HTTP route the docs name is one api/ serves', () => {
    const source = filesUnder(join(ROOT, 'api'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n');
    const routes = [...source.matchAll(/'(\/[\w/:.{}-]*)'/g)].map((m) => m[1] ?? '');
    const patterns = routes.map(
      (r) => new RegExp(`^${r.replace(/[.]/g, '\\.').replace(/:\w+|\{\w+\}/g, '[^/]+')}$`),
    );
    const problems: string[] = [];
    let checked = 0;
    for (const [file, text] of texts) {
      for (const m of text.matchAll(/\b(?:GET|POST|PUT|DELETE) (\/[\w/:.{}*,-]*)/g)) {
        // `/ui/api/*` and `/v1/models/:name/{predict,rank}` name a family: check up to there.
        const path = (m[1] ?? '').replace(/[*{][^/]*$/, '');
        checked++;
        const served = path.endsWith('/')
          ? routes.some((r) => r.startsWith(path)) ||
            patterns.some((p) => p.test(path.slice(0, -1)))
          : patterns.some((p) => p.test(path));
        if (!served) problems.push(`${file}: ${m[0]}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it("every environment variable config/ reads is in the README's Configuration table", () => {
    // Test-only (kill -9 at a chosen point of a batch), documented in docs/operations.md.
    const testOnly = new Set(['LARDER_TEST_CRASH_AT']);
    const source = filesUnder(join(ROOT, 'config'))
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n');
    const read = new Set(
      [...source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\bint\('([A-Z][A-Z0-9_]+)'/g)].map(
        (m) => m[1] ?? m[2] ?? '',
      ),
    );
    const readme = texts.get('README.md') ?? '';
    const table = readme.slice(
      readme.indexOf('\n## Configuration\n'),
      readme.indexOf('\n## Offline store\n'),
    );
    expect(read).toContain('LARDER_HOME');
    expect(read).toContain('LARDER_SERVE_WORKERS');
    const missing = [...read].filter(
      (v) => !testOnly.has(v) && !new RegExp(`\`${v}[\`=]`).test(table),
    );
    expect(missing).toEqual([]);
  });
});
