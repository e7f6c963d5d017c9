import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Copies the raw history keeping only records with timestamp ≤ t (what a read at t may see). */
export async function historyUpTo(dir: string, t: number): Promise<string> {
  const out = join(dir, `cut-${t}`);
  for (const source of ['user_events', 'transactions']) {
    mkdirSync(join(out, 'raw', source), { recursive: true });
    for (const f of readdirSync(join(dir, 'raw', source))) {
      const kept = readFileSync(join(dir, 'raw', source, f), 'utf8')
        .split('\n')
        .filter((l) => l && (JSON.parse(l) as { timestamp: number }).timestamp <= t);
      writeFileSync(join(out, 'raw', source, f), kept.join('\n') + '\n');
    }
  }
  return out;
}
