/**
 * Hot reload: watches `$LARDER_HOME/registry.json` (fs.watch, with an mtime poll as fallback
 * for file systems where watch is unreliable) and calls `reload` after each change, one reload
 * at a time (a change during a reload triggers one more).
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import { registryPath } from '../registry/registry-file.ts';

/**
 * @example
 * const w = new RegistryWatcher(config.home, () => reloadServing(...));
 * w.start(); // … w.stop();
 */
export class RegistryWatcher {
  readonly #path: string;
  readonly #home: string;
  readonly #reload: () => Promise<void>;
  readonly #pollMs: number;
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #mtime = 0;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(home: string, reload: () => Promise<void>, opts: { pollMs?: number } = {}) {
    this.#home = home;
    this.#path = registryPath(home);
    this.#reload = reload;
    this.#pollMs = opts.pollMs ?? 1000;
  }

  #stat(): number {
    try {
      return statSync(this.#path).mtimeMs;
    } catch {
      return 0;
    }
  }

  start(): void {
    this.#mtime = this.#stat();
    try {
      this.#watcher = watch(this.#home, (_event, name) => {
        if (name === 'registry.json') this.#check();
      });
      this.#watcher.on('error', () => undefined);
    } catch {
      this.#watcher = null; // the poll still runs
    }
    this.#timer = setInterval(() => this.#check(), this.#pollMs);
    this.#timer.unref();
  }

  #check(): void {
    const m = this.#stat();
    if (m === this.#mtime || m === 0) return;
    this.#mtime = m;
    this.trigger();
  }

  /** Runs a reload now (or once more after the one in progress). */
  trigger(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#reload().catch(() => undefined);
      } while (this.#again);
      this.#running = null;
    })();
    return this.#running;
  }

  stop(): void {
    this.#watcher?.close();
    if (this.#timer) clearInterval(this.#timer);
    this.#watcher = null;
    this.#timer = null;
  }
}
