/**
 * Progress lines of long commands (`materialize`, `export`) on stderr. On a terminal one line is
 * rewritten in place (`\r`) at most every 0.2 s; otherwise (a pipe, a CI log) plain lines, at
 * most one every 5 s, so a log gets a few lines, never carriage returns. A step's first update
 * only starts its clock (a quick step prints just its last line); the last line (`done`) is
 * always written.
 */

/** Where progress goes: stderr by default; tests pass their own. */
export interface ProgressSink {
  isTTY: boolean;
  write(text: string): void;
  now(): number;
}

export const stderrSink = (): ProgressSink => ({
  isTTY: process.stderr.isTTY === true,
  write: (t) => void process.stderr.write(t),
  now: () => performance.now(),
});

/** Minimum time between two lines: rewritten in place on a terminal, appended elsewhere. */
export const TTY_INTERVAL_MS = 200;
export const PLAIN_INTERVAL_MS = 5000;

/**
 * A writer of one step's status line. `update(line, done)` shows `line` unless the last one was
 * written less than an interval ago; `done` always shows and ends the line. `note(line)` writes a
 * whole line at once (a phase starting), ending any line being rewritten first.
 */
export function progressWriter(sink: ProgressSink = stderrSink()) {
  const interval = sink.isTTY ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS;
  let last: number | null = null;
  let open = false; // a \r-rewritten line without its newline yet
  const end = (): void => {
    if (open) sink.write('\n');
    open = false;
  };
  return {
    update(line: string, done = false): void {
      const now = sink.now();
      if (!done && (last === null || now - last < interval)) {
        last ??= now;
        return;
      }
      last = now;
      if (sink.isTTY) {
        sink.write(`\r${line}${done ? '\n' : ''}`);
        open = !done;
      } else sink.write(`${line}\n`);
      if (done) last = null;
    },
    note(line: string): void {
      end();
      sink.write(`${line}\n`);
      last = sink.now();
    },
    end,
  };
}
