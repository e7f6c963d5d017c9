/** Helpers for tests that start servers: a free port, and waiting for a condition. */
import { createServer } from 'node:net';

/** A TCP port nothing listens on right now (the OS picks it; another process may take it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Polls `f` every 100 ms until it gives a value other than null; throws after `timeoutMs` by the
 * monotonic clock (a test's deadlines never use `Date.now()`: a step of this VM's wall clock once
 * timed a 30 s wait out after 6 s in CI).
 */
export async function until<T>(
  what: string,
  f: () => Promise<T | null> | T | null,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
