/**
 * How the scheduler runs one view up to a slot: a `ViewRunner`. `forkRunner` runs each attempt
 * in a child process (a module the CLI names, which runs `materialize-incremental` for the
 * view), so a timeout or a lost lease ends the attempt by killing the child, and a child whose
 * scheduler dies (kill -9 included) exits when its IPC channel closes.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export interface ViewJob {
  view: string;
  /** Materialize up to this time (the slot D). */
  end: number;
}

export interface ViewRunResult {
  /** Tiles and lifetime values written (a batch view: its snapshot's rows). */
  rows: number;
}

/** What the child module receives, and what it answers. */
export type ChildRequest = ViewJob & { repo: string | null };
export type ChildReply = { ok: true; rows: number } | { ok: false; error: string };

export class RunTimeoutError extends Error {
  override readonly name = 'RunTimeoutError';
}

export type ViewRunner = (
  job: ViewJob,
  opts: { timeoutMs: number | null; signal: AbortSignal },
) => Promise<ViewRunResult>;

/** Runs each job in a child process started from `module` (through tsx, like `larder`). */
export function forkRunner(module: string, repo: string | null): ViewRunner {
  // tsx's one entry (its loader), found from Larder's own dependencies, not the working folder.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return (job, { timeoutMs, signal }) =>
    new Promise<ViewRunResult>((resolve, reject) => {
      const child = fork(module, [], {
        execArgv: ['--import', tsx],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      let reply: ChildReply | null = null;
      let failure: Error | null = null;
      const kill = (e: Error): void => {
        failure ??= e;
        child.kill('SIGKILL');
      };
      const timer =
        timeoutMs === null
          ? null
          : setTimeout(
              () => kill(new RunTimeoutError(`timed out after ${timeoutMs / 1000}s`)),
              timeoutMs,
            );
      const onAbort = (): void => kill(new Error(String(signal.reason ?? 'aborted')));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort);
      child.on('message', (m: ChildReply) => (reply = m));
      child.on('error', (e) => (failure ??= e));
      child.on('exit', (code, sig) => {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (failure) reject(failure);
        else if (reply?.ok) resolve({ rows: reply.rows });
        else if (reply) reject(new Error(reply.error));
        else reject(new Error(`the run exited with ${sig ?? `code ${code}`}`));
      });
      const request: ChildRequest = { ...job, repo };
      child.send(request);
    });
}
