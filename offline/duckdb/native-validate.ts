/**
 * The native JSON Lines validator (`native/jsonl-validate`, Rust, built by `npm run
 * build:native` when cargo is installed): it validates a file into the same Parquet cache entry
 * DuckDB's `COPY` writes (`jsonl-cache.ts`) — same columns and types, same values, same
 * `__reason` on every line — in less than half the CPU. A line it cannot decide exactly as
 * DuckDB does (an integer of more than 19 digits, a key repeated in an object, a CR other than
 * in a CRLF line end, a control character, a line that is not UTF-8, …) makes it stop with exit
 * status 3 ("fallback"); the file is then validated by DuckDB as without it. CRLF line ends and
 * a byte order mark at the start of the file are read as DuckDB reads them.
 *
 * The executable gets the schema as a plan: the `RecordType` with every reason already worded
 * here (`validate-record.ts`, `field-checks.ts`), so the messages are these modules' own.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkMessage, type FieldChecks } from '../../definitions/field-checks.ts';
import { KIND_NAME } from '../validate-record.ts';
import {
  int64RangeMessage,
  type FieldType,
  type RecordType,
} from '../../definitions/record-schema.ts';

/** Where `npm run build:native` puts the executable (inside the package). */
export const NATIVE_VALIDATOR = fileURLToPath(
  new URL('../../native/jsonl-validate/target/release/jsonl-validate', import.meta.url),
);

/** The executable, when it is built. */
export function nativeValidator(): string | null {
  return existsSync(NATIVE_VALIDATOR) ? NATIVE_VALIDATOR : null;
}

interface PlanCheck {
  op: string;
  n: number;
  msg: string;
}

/** A field's checks in the order `checkProblem` (and the SQL) tries them, with their reasons. */
function planChecks(f: FieldType, label: string): PlanCheck[] {
  const c: FieldChecks | undefined = 'checks' in f ? f.checks : undefined;
  if (!c) return [];
  const out: PlanCheck[] = [];
  if (f.kind === 'string') {
    if (c.minLength !== undefined)
      out.push({
        op: 'minLength',
        n: c.minLength,
        msg: checkMessage.minLength(label, c.minLength),
      });
    if (c.maxLength !== undefined)
      out.push({
        op: 'maxLength',
        n: c.maxLength,
        msg: checkMessage.maxLength(label, c.maxLength),
      });
  } else if (f.kind === 'int64' || f.kind === 'float64') {
    if (c.finite && f.kind === 'float64')
      out.push({ op: 'finite', n: 0, msg: checkMessage.finite(label) });
    if (c.min !== undefined)
      out.push({
        op: c.minExclusive ? 'minExclusive' : 'min',
        n: c.min,
        msg: checkMessage.min(label, c.min, c.minExclusive === true),
      });
    if (c.max !== undefined)
      out.push({
        op: c.maxExclusive ? 'maxExclusive' : 'max',
        n: c.max,
        msg: checkMessage.max(label, c.max, c.maxExclusive === true),
      });
  } else if (f.kind === 'array') {
    if (c.minItems !== undefined)
      out.push({ op: 'minItems', n: c.minItems, msg: checkMessage.minItems(label, c.minItems) });
    if (c.maxItems !== undefined)
      out.push({ op: 'maxItems', n: c.maxItems, msg: checkMessage.maxItems(label, c.maxItems) });
  }
  return out;
}

function planNode(f: FieldType, label: string): Record<string, unknown> {
  const node: Record<string, unknown> = {
    kind: f.kind,
    missing: f.nullable ? null : `missing required field "${label}"`,
    wrong: `field "${label}": expected ${KIND_NAME[f.kind]}, got `,
    checks: planChecks(f, label),
  };
  switch (f.kind) {
    case 'int64':
      node.range = int64RangeMessage(label);
      break;
    case 'string':
      if (f.enum) {
        node.enum = f.enum;
        node.enumPre = `field "${label}": `;
        node.enumPost = ` is not one of ${f.enum.join(', ')}`;
      }
      break;
    case 'record':
      node.fields = Object.entries(f.fields).map(([k, sub]) => [k, planNode(sub, `${label}.${k}`)]);
      break;
    case 'map':
      node.inner = planNode(f.values, `${label}.*`);
      break;
    case 'array':
      node.inner = planNode(f.items, `${label}[]`);
      break;
  }
  return node;
}

/** The plan of `schema` the executable reads (its top-level fields in schema order). */
export function nativePlan(schema: RecordType): string {
  return JSON.stringify({
    fields: Object.entries(schema.fields).map(([k, f]) => [k, planNode(f, k)]),
  });
}

/** What a run of the executable came to. */
export type NativeResult = { rows: number } | { fallback: string };

/**
 * Validates `file` into the Parquet file `out` (its rows' `__file` is `name`) with the
 * executable `exe`; `plan` is a file holding {@link nativePlan}. `onLines` gets the lines read
 * so far, every 65,536. Rejects on a failure other than a fallback (the caller then uses DuckDB).
 */
export function runNative(
  exe: string,
  plan: string,
  file: string,
  name: string,
  out: string,
  onLines?: (lines: number) => void,
): Promise<NativeResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(exe, ['--plan', plan, '--input', file, '--name', name, '--output', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let partial = '';
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const m = /^lines (\d+)$/.exec(l);
        if (m) onLines?.(Number(m[1]));
        else errors += `${l}\n`;
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        try {
          resolvePromise({ rows: Number((JSON.parse(stdout) as { rows: number }).rows) });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      } else if (code === 3) {
        resolvePromise({ fallback: (errors + partial).trim().replace(/^fallback: /, '') });
      } else {
        reject(
          new Error(`jsonl-validate exited with ${code ?? signal}: ${(errors + partial).trim()}`),
        );
      }
    });
  });
}

/** Writes the plan of `schema` to `path`. */
export function writePlan(path: string, schema: RecordType): void {
  writeFileSync(path, nativePlan(schema));
}
