/**
 * At most `n` of the calls run at once; the others wait their turn, in order. Test files that
 * spawn many short CLI processes run them through one limiter: most of a spawn's time is Node
 * and tsx loading modules, so a few at once use both cores without crowding the machine.
 *
 * @example
 * const limited = limiter(4);
 * const results = await Promise.all(argvs.map((a) => limited(() => larder(a))));
 */
export function limiter(n: number): <T>(f: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    else running++;
    try {
      return await f();
    } finally {
      // The slot passes to the next caller directly, so `running` never exceeds `n`.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
