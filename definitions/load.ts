/**
 * Loads a feature repository: every `.ts` file under the folder (not tests, not dot-folders,
 * not node_modules), imported with tsx so users need no build step. Each load uses a fresh
 * module namespace, so a long-running server can reload an edited repository.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { DefinitionError, LarderError, type Problem } from '../core/errors.ts';
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

const FRAME = /(?:file:\/\/)?(\/[^\s():?]+\.m?ts)(?:\?[^\s():]*)?:(\d+):(\d+)/;

/**
 * A module that failed to import, blamed on where it failed: the file and line of a syntax error
 * or of the throwing statement (the first stack frame in the repository), not on each module that
 * imports it — so one mistake is one problem, reported once.
 */
function loadProblem(e: unknown, file: string, root: string): Problem {
  const message = e instanceof Error ? e.message : String(e);
  const at = (path: string, line?: string): string =>
    `${relative(process.cwd(), path)}${line ? `:${line}` : ''}`;
  const syntax = /^(\/.+?\.m?ts):(\d+):(\d+): ERROR: (.+)$/m.exec(message);
  if (syntax)
    return {
      at: at(syntax[1]!, syntax[2]),
      object: 'module',
      field: '',
      message: `failed to load: syntax error at column ${syntax[3]}: ${syntax[4]}`,
    };
  const first = message.split('\n')[0] ?? message;
  const missing = /^Cannot find (?:module|package) '([^']+)'(?: imported from (\S+))?/.exec(first);
  let origin: { path: string; line?: string | undefined } | undefined = missing?.[2]
    ? { path: missing[2] }
    : undefined;
  if (!origin) {
    for (const l of ((e as Error)?.stack ?? '').split('\n').slice(1)) {
      const m = FRAME.exec(l);
      if (m && m[1]!.startsWith(root + sep)) {
        origin = { path: m[1]!, line: m[2] };
        break;
      }
    }
  }
  const bare = missing && !missing[1]!.startsWith('.') && !missing[1]!.startsWith('/');
  return {
    at: at(origin?.path ?? file, origin?.line),
    object: 'module',
    field: '',
    message: `failed to load: ${missing ? `cannot find ${bare ? 'package' : 'module'} '${missing[1]}'` : first}`,
    ...(bare
      ? {
          hint: `install it in the project holding the repository (npm install ${missing[1]!.startsWith('@') ? missing[1]!.split('/').slice(0, 2).join('/') : missing[1]!.split('/')[0]})`,
        }
      : {}),
  };
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
            : [loadProblem(e, file, root)];
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
