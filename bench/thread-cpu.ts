/**
 * CPU time per OS thread and per phase of a benchmark run (Linux `/proc/self/task/<tid>/stat`),
 * sampled every 10 ms by a worker thread of its own, so the samples keep coming while the main
 * thread is busy. It shows which threads work in which phase: a phase whose CPU is all on one
 * thread runs on one core however many there are. That holds on a busy machine too, where wall
 * times are meaningless; `bound` (per phase, the larger of its busiest thread's CPU and half its
 * total) is what the phase would take on 2 idle cores, were its work spread evenly over it.
 *
 * @example
 * const cpu = ThreadCpu.start();
 * cpu.mark('aggregating');
 * console.error(await cpu.stop());
 */
import { Worker } from 'node:worker_threads';

interface Sample {
  t: number;
  /** tid → CPU seconds (user + system). */
  cpu: Record<string, number>;
  /** How many of the threads were runnable (state R: running or waiting for a core). */
  run: number;
}

const SAMPLER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const self = fs.readlinkSync('/proc/thread-self').split('/').pop();
const hz = 100;
const samples = [];
const sample = () => {
  const cpu = {};
  let run = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    if (tid === self) continue;
    try {
      const s = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      cpu[tid] = (Number(f[11]) + Number(f[12])) / hz;
      if (f[0] === 'R') run++;
    } catch {}
  }
  samples.push({ t: performance.timeOrigin + performance.now(), cpu, run });
};
sample();
const timer = setInterval(sample, 10);
parentPort.on('message', () => {
  clearInterval(timer);
  sample();
  parentPort.postMessage(samples);
});
`;

export class ThreadCpu {
  readonly #worker: Worker;
  readonly #marks: { t: number; label: string }[] = [];

  private constructor() {
    this.#worker = new Worker(SAMPLER, { eval: true });
    this.#worker.unref();
  }

  static start(): ThreadCpu {
    return new ThreadCpu();
  }

  /** A phase begins now. */
  mark(label: string): void {
    this.#marks.push({ t: performance.timeOrigin + performance.now(), label });
  }

  /** Stops sampling; one line per phase: wall, CPU, the threads' CPU (main first), `bound`. */
  async stop(): Promise<string> {
    const done = new Promise<Sample[]>((resolve) => this.#worker.once('message', resolve));
    this.#worker.postMessage('stop');
    const samples = await done;
    await this.#worker.terminate();
    const end = samples.at(-1)!.t;
    // Per thread, its last sample at or before t: a thread that ended (a worker terminated
    // before `stop`) keeps the CPU it had used.
    const at = (t: number): Record<string, number> => {
      const cpu: Record<string, number> = { ...samples[0]!.cpu };
      for (const s of samples) if (s.t <= t) Object.assign(cpu, s.cpu);
      return cpu;
    };
    const main = String(process.pid);
    const lines: string[] = [];
    let bound = 0;
    let serial = 0;
    let cpuAll = 0;
    this.#marks.forEach((m, i) => {
      const to = this.#marks[i + 1]?.t ?? end;
      const a = at(m.t);
      const b = at(to);
      const per = Object.keys(b)
        .map((tid) => ({ tid, cpu: b[tid]! - (a[tid] ?? 0) }))
        .filter((x) => x.cpu > 0)
        .sort((x, y) => (x.tid === main ? -1 : y.tid === main ? 1 : y.cpu - x.cpu));
      const total = per.reduce((s, x) => s + x.cpu, 0);
      const top = Math.max(0, ...per.map((x) => x.cpu));
      const phaseBound = Math.max(top, total / 2);
      bound += phaseBound;
      // One-core CPU: spent between two samples at which at most one thread was runnable.
      let single = 0;
      /** The one-core CPU by thread. */
      const alone = new Map<string, number>();
      for (let k = 1; k < samples.length; k++) {
        const s = samples[k]!;
        const p = samples[k - 1]!;
        if (s.t <= m.t || p.t >= to || s.run > 1 || p.run > 1) continue;
        for (const tid of Object.keys(s.cpu)) {
          const d = s.cpu[tid]! - (p.cpu[tid] ?? s.cpu[tid]!);
          single += d;
          if (d > 0) alone.set(tid, (alone.get(tid) ?? 0) + d);
        }
      }
      serial += single;
      cpuAll += total;
      lines.push(
        `${m.label}: wall ${((to - m.t) / 1000).toFixed(2)}s cpu ${total.toFixed(2)} one-core ${single.toFixed(2)}${
          single >= 0.05
            ? ` (${[...alone]
                .sort((x, y) => y[1] - x[1])
                .slice(0, 3)
                .map(([tid, c]) => `${tid === main ? 'main' : tid} ${c.toFixed(2)}`)
                .join(', ')})`
            : ''
        } bound ${phaseBound.toFixed(2)} [${per
          .map((x) => `${x.tid === main ? 'main' : x.tid} ${x.cpu.toFixed(2)}`)
          .join(', ')}]`,
      );
    });
    lines.push(`bound on 2 idle cores: ${bound.toFixed(2)}s`);
    lines.push(
      `one-core CPU (at most one thread runnable): ${serial.toFixed(2)}s of ${cpuAll.toFixed(2)}; on 2 idle cores ≈ ${(serial + (cpuAll - serial) / 2).toFixed(2)}s`,
    );
    // When each thread was first seen (after the first sample: started during the run).
    const t0 = this.#marks[0]?.t ?? samples[0]!.t;
    const born = new Map<string, number>();
    for (const s of samples)
      for (const tid of Object.keys(s.cpu)) if (!born.has(tid)) born.set(tid, s.t);
    lines.push(
      `threads started during the run: ${[...born]
        .filter(([, t]) => t > samples[0]!.t)
        .map(([tid, t]) => `${tid} +${((t - t0) / 1000).toFixed(2)}s`)
        .join(', ')}`,
    );
    return lines.join('\n');
  }
}
