/**
 * Loads a feature repository: every `.ts` file under the folder (not tests, not dot-folders,
 * not node_modules), imported with tsx so users need no build step. Each load uses a fresh
 * module namespace, so a long-running server can reload an edited repository.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { DefinitionError, LarderError, type Problem } from './errors.ts';
import { isDefinition, type Definition } from './dsl/definition.ts';
import { Repository } from './repository.ts';

let loads = 0;

export function repositoryFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mts)$/.test(name) && !/\.(test|spec|d)\.m?ts$/.test(name)) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** Imports a repository folder and validates it; throws DefinitionError with every problem found. */
export async function loadRepository(dir: string): Promise<Repository> {
  const root = resolve(dir);
  let files: string[];
  try {
    files = repositoryFiles(root);
  } catch (e) {
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `cannot read the feature repository at ${root}: ${(e as Error).message}`,
      { hint: 'pass the folder holding your definitions, e.g. --repo features' },
    );
  }
  if (files.length === 0) {
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `no .ts files in the feature repository ${root}`,
      { hint: 'pass the folder holding your definitions, e.g. --repo features' },
    );
  }
  // Stack traces (and so the file:line of each definition) map back to the .ts lines.
  process.setSourceMapsEnabled(true);
  const api = register({ namespace: `larder-repo-${process.pid}-${++loads}` });
  const definitions: Definition[] = [];
  const problems: Problem[] = [];
  const seenMessages = new Set<string>();
  try {
    for (const file of files) {
      let mod: Record<string, unknown>;
      try {
        mod = (await api.import(pathToFileURL(file).href, import.meta.url)) as Record<
          string,
          unknown
        >;
      } catch (e) {
        const list: Problem[] =
          e instanceof DefinitionError || (e as { problems?: unknown }).problems
            ? (e as DefinitionError).problems
            : [
                {
                  at: relative(process.cwd(), file),
                  object: 'module',
                  field: '',
                  message: `failed to load: ${(e as Error).message ?? String(e)}`,
                },
              ];
        for (const p of list) {
          const key = JSON.stringify(p);
          if (!seenMessages.has(key)) problems.push(p);
          seenMessages.add(key);
        }
        continue;
      }
      for (const v of Object.values(mod)) if (isDefinition(v)) definitions.push(v);
    }
  } finally {
    api.unregister();
  }
  if (problems.length > 0) throw new DefinitionError(problems);
  return Repository.from(definitions, root);
}
