/**
 * docs/errors.md against the error table (`core/errors.ts`): exactly the codes of
 * ERROR_CODES, each with its HTTP status, gRPC status (number and name) and kind, a section
 * per code, and exactly the LARDER_BAD_REQUEST reasons.
 */
import { readFileSync } from 'node:fs';
import { status as grpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { BAD_REQUEST_REASONS, ERROR_CODES } from '../../core/errors.ts';

const root = new URL('../../', import.meta.url);
const DOC = readFileSync(new URL('docs/errors.md', root), 'utf8');

/** The text from the `## title` heading to the next `## ` heading. */
function section(title: string): string {
  const start = DOC.indexOf(`\n## ${title}\n`);
  expect(start, `docs/errors.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

describe('docs/errors.md', () => {
  it('lists exactly the codes of the table, with their statuses and kind, in order', () => {
    const rows = [
      ...section('Codes').matchAll(
        /^\| `(LARDER_[A-Z_]+)` \| (\d{3}) \| (\d+) ([A-Z_]+) \| (transient|permanent) \|$/gm,
      ),
    ];
    const documented = rows.map(([, code, http, grpc, , kind]) => [
      code,
      { http: Number(http), grpc: Number(grpc), kind },
    ]);
    expect(documented).toEqual(Object.entries(ERROR_CODES));
    for (const [, code, , grpc, name] of rows)
      expect(grpcStatus[name as keyof typeof grpcStatus], `${code}: gRPC ${grpc} ${name}`).toBe(
        Number(grpc),
      );
  });

  it('explains every code in a section of its own, in the order of the table', () => {
    const headings = [...section('Codes').matchAll(/^### `(LARDER_[A-Z_]+)`$/gm)].map((m) => m[1]);
    expect(headings).toEqual(Object.keys(ERROR_CODES));
  });

  it('lists exactly the bad request reasons, in order', () => {
    const reasons = [...section('Bad request reasons').matchAll(/^\| `([a-z_]+)` \| /gm)].map(
      (m) => m[1],
    );
    expect(reasons).toEqual([...BAD_REQUEST_REASONS]);
  });

  it('is linked from the README and docs/api.md', () => {
    expect(readFileSync(new URL('README.md', root), 'utf8')).toContain('(docs/errors.md)');
    expect(readFileSync(new URL('docs/api.md', root), 'utf8')).toContain('(errors.md)');
  });
});
