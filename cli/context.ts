import { loadConfig, type LarderConfig } from '../config/config.ts';
import { loadRepository } from '../definitions/load.ts';
import type { Repository } from '../definitions/repository.ts';

export interface GlobalOptions {
  repo?: string;
}

/** Config (larder.config.ts + env), with `--repo` taking precedence. */
export async function cliConfig(opts: GlobalOptions): Promise<LarderConfig> {
  return loadConfig(process.cwd(), undefined, opts.repo ? { repo: opts.repo } : {});
}

export async function cliRepository(config: LarderConfig): Promise<Repository> {
  return loadRepository(config.repo);
}
