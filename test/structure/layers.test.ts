/**
 * The layer rules (`.dependency-cruiser.cjs`) bite: dependency-cruiser, run with the project's
 * config over a small tree that has one forbidden import of each kind next to allowed ones,
 * reports exactly the forbidden ones, each under its rule.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const CONFIG = resolve('.dependency-cruiser.cjs');
const DEPCRUISE = resolve('node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** file → the files it imports (a type-only import where the target starts with `type:`). */
const TREE: Record<string, string[]> = {
  // forbidden
  'core/x.ts': ['api/y.ts'],
  'models/m.ts': ['type:api/y.ts'],
  'online/o.ts': ['retrieval/index.ts'],
  'reference/ref.ts': ['registry/reg.ts'],
  'api/to-cli.ts': ['cli/c.ts'],
  'offline/bigquery/a.ts': ['offline/duckdb/b.ts'],
  'offline/duckdb/b.ts': [],
  'api/z.ts': ['examples/ecommerce/e.ts'],
  'definitions/d.ts': ['test/t.ts'],
  'api/w.ts': ['retrieval/get-online-features.ts'],
  'registry/c1.ts': ['registry/c2.ts'],
  'registry/c2.ts': ['registry/c1.ts'],
  'streaming/s.ts': ['streaming/missing.ts'],
  'client/runtime.ts': ['core/ok.ts'],
  'client/grpc-transport.ts': ['client/runtime.ts', 'core/ok.ts'],
  // allowed
  'api/y.ts': ['core/ok.ts', 'retrieval/index.ts'],
  'core/ok.ts': [],
  'cli/c.ts': ['api/y.ts', 'client/codegen.ts'],
  'client/codegen.ts': ['client/runtime.ts', 'retrieval/index.ts', 'core/ok.ts'],
  'retrieval/index.ts': ['retrieval/get-online-features.ts'],
  'retrieval/get-online-features.ts': ['online/store.ts'],
  'online/store.ts': ['definitions/spec.ts'],
  'definitions/spec.ts': ['core/ok.ts'],
  'registry/reg.ts': [],
  'offline/sql.ts': [],
  'offline/duckdb/uses-offline.ts': ['offline/sql.ts'],
  'examples/ecommerce/e.ts': ['cli/c.ts', 'retrieval/get-online-features.ts'],
  'test/t.ts': ['api/y.ts', 'retrieval/get-online-features.ts', 'examples/ecommerce/e.ts'],
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

let violations: Violation[];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-layers-'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', allowImportingTsExtensions: true, noEmit: true },
    }),
  );
  for (const [file, imports] of Object.entries(TREE)) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    const lines = imports.map((target, i) => {
      const type = target.startsWith('type:');
      const path = type ? target.slice(5) : target;
      const up = posix.relative(posix.dirname(file), path);
      const rel = up.startsWith('.') ? up : `./${up}`;
      return type
        ? `import type { T as T${i} } from '${rel}';`
        : `import { v as v${i} } from '${rel}';`;
    });
    // Value imports are used (TypeScript drops unused ones before dependency-cruiser sees them).
    const used = imports.flatMap((t, i) => (t.startsWith('type:') ? [] : [`v${i}`]));
    writeFileSync(
      join(dir, file),
      `${lines.join('\n')}\nexport type T = number;\nexport const v = [${used.join(', ')}].length;\n`,
    );
  }
  const run = spawnSync(
    process.execPath,
    [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', ...Object.keys(TREE)],
    { cwd: dir, encoding: 'utf8' },
  );
  expect(run.stdout, run.stderr).not.toBe('');
  violations = (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary
    .violations;
}, 60_000);

const edges = (rule: string): string[] =>
  violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} → ${v.to}`);

describe('layer rules (.dependency-cruiser.cjs)', () => {
  it('forbid importing a higher layer, type-only imports included', () => {
    expect(edges('layer-core')).toEqual(['core/x.ts → api/y.ts']);
    // The engines' rule is named after its folders (`layer-offline-online-…`), which grow.
    const engines = [...new Set(violations.map((v) => v.rule.name))].filter((n) =>
      n.startsWith('layer-offline-'),
    );
    expect(engines).toHaveLength(1);
    expect(edges(engines[0]!)).toEqual(['models/m.ts → api/y.ts']);
  });

  it('allow only the listed imports between folders of one layer', () => {
    expect(edges('peers-online')).toEqual(['online/o.ts → retrieval/index.ts']);
    expect(edges('peers-reference')).toEqual(['reference/ref.ts → registry/reg.ts']);
    expect(edges('peers-api')).toEqual(['api/to-cli.ts → cli/c.ts']);
  });

  it('keep the offline dialects apart', () => {
    expect(edges('offline-dialects-apart')).toEqual([
      'offline/bigquery/a.ts → offline/duckdb/b.ts',
    ]);
  });

  it('keep the example, tests and retrieval internals out of product code', () => {
    expect(edges('no-example-in-product')).toEqual(['api/z.ts → examples/ecommerce/e.ts']);
    expect(edges('no-tests-in-product')).toEqual(['definitions/d.ts → test/t.ts']);
    expect(edges('retrieval-through-index')).toEqual([
      'api/w.ts → retrieval/get-online-features.ts',
    ]);
  });

  it('keep the client runtime free of imports (it is copied next to generated clients)', () => {
    expect(edges('client-runtime-standalone')).toEqual(['client/runtime.ts → core/ok.ts']);
    // The gRPC transport may import the runtime (copied with it), nothing else of Larder.
    expect(edges('client-grpc-transport-standalone')).toEqual([
      'client/grpc-transport.ts → core/ok.ts',
    ]);
  });

  it('forbid import cycles', () => {
    // One violation per cycle, at the edge where the cruise closes it.
    expect(edges('no-circular')).toHaveLength(1);
    expect(edges('no-circular')[0]).toMatch(/^registry\/c[12]\.ts → registry\/c[12]\.ts$/);
  });

  it('forbid imports that resolve to nothing', () => {
    expect(edges('not-to-unresolvable')).toEqual(['streaming/s.ts → ./missing.ts']);
  });

  it('report nothing else (the allowed imports of the tree pass)', () => {
    expect(violations).toHaveLength(13);
  });
});
