/** Small helpers for CLI output: aligned tables on stdout, messages on stderr. */
export function table(rows: readonly (readonly string[])[], header: readonly string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  '),
    )
    .join('\n');
}

export const info = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

export const printJson = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
};
