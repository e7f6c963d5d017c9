/**
 * The load generator as its own process, so it leaves the server's cores alone: `bench/serve.ts`
 * starts it pinned to one core (`taskset -c $LOAD_CPU`), hands it a JSON file of request bodies
 * and tags, and reads one JSON line back: the `drive` stats and this process's CPU use.
 *
 *   tsx bench/load-process.ts <options.json>
 *   options: { port, path, concurrency, seconds, bodies: string[], tags: string[] }
 */
import { readFileSync } from 'node:fs';
import { drive, type TaggedStats } from './http-load.ts';

interface Options {
  port: number;
  path: string;
  concurrency: number;
  seconds: number;
  bodies: string[];
  tags: string[];
}

/** What the generator prints: its stats, and its CPU time as a share of one core. */
export interface LoadReport extends TaggedStats {
  /** (user + system CPU time) / wall time of the run: 1 = one core busy throughout. */
  cpu: number;
}

const o = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Options;
const n = o.bodies.length;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const stats = await drive({
  port: o.port,
  path: o.path,
  concurrency: o.concurrency,
  seconds: o.seconds,
  bodyOf: (i) => o.bodies[i % n]!,
  tagOf: (i) => o.tags[i % n]!,
});
const used = process.cpuUsage(cpu0);
const report: LoadReport = {
  ...stats,
  cpu: (used.user + used.system) / 1000 / (performance.now() - t0),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
