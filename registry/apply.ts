import { basename } from 'node:path';
import { LarderError } from '../core/errors.ts';
import { smokeTestOnDemand } from '../definitions/on-demand-smoke.ts';
import type { Repository } from '../definitions/repository.ts';
import { plan, type Plan } from './plan.ts';
import {
  nextRegistry,
  readRegistry,
  withRegistryLock,
  writeRegistry,
  type RegistryFile,
} from './registry-file.ts';

export interface ApplyResult {
  plan: Plan;
  /** False when nothing changed (re-applying an unchanged repository is a no-op). */
  written: boolean;
  registry: RegistryFile;
}

/**
 * Applies a loaded repository to the registry under `home`. On-demand transforms must pass
 * their smoke test (DefinitionError otherwise). Breaking changes are refused unless
 * `allowBreaking`, with a hint to version the object's name instead.
 */
export async function applyRepository(
  repo: Repository,
  home: string,
  opts: { allowBreaking?: boolean } = {},
): Promise<ApplyResult> {
  smokeTestOnDemand(repo);
  const specs = repo.specs();
  return withRegistryLock(home, () => {
    const current = readRegistry(home);
    const p = plan(current, specs);
    if (p.changes.length === 0 && current) return { plan: p, written: false, registry: current };
    if (p.hasBreaking && !opts.allowBreaking) {
      const lines = p.changes
        .filter((c) => c.breaking.length > 0)
        .map((c) => `  ${c.kind} "${c.name}": ${c.breaking.join('; ')}`);
      const first = p.changes.find((c) => c.breaking.length > 0)!;
      const removes = p.changes.some((c) => c.action === 'remove');
      let hint: string;
      if (current && current.repo !== repo.root && removes) {
        hint = `the registry under ${home} was applied from another repository (${current.repo}); give a separate project its own home (e.g. LARDER_HOME=${home}-${basename(repo.root)}), or re-run with --allow-breaking to delete the objects this one lacks`;
      } else if (first.action === 'remove') {
        hint = `keep "${first.name}" in the repository (next to a versioned replacement if you need one) so its clients and stored values keep working, or re-run with --allow-breaking to delete it`;
      } else {
        hint = `version the name instead (e.g. "${versioned(first.name)}") so stored values and clients of the old one keep working, or re-run with --allow-breaking`;
      }
      throw new LarderError(
        'LARDER_BREAKING_CHANGE',
        `refusing breaking changes:\n${lines.join('\n')}`,
        { hint },
      );
    }
    const next = nextRegistry(current, specs, repo.root);
    writeRegistry(home, next);
    return { plan: p, written: true, registry: next };
  });
}

export function versioned(name: string): string {
  const m = /^(.*)_v(\d+)$/.exec(name);
  return m ? `${m[1]}_v${Number(m[2]) + 1}` : `${name}_v2`;
}
