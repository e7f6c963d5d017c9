/**
 * The DuckDB store's append path: JSON Lines files under `$LARDER_DATA_DIR/<source.path>/`,
 * `stream-<partition>-<YYYY-MM-DD>.jsonl` for a Kafka partition and `push-<YYYY-MM-DD>.jsonl`
 * for pushes (date of ingestion, UTC), each record with `_larder_origin`, `_larder_offset` and
 * `_larder_ingested_at` added.
 *
 * Exactly once per (origin, offset): each data file has a sidecar `<file>.offsets` with one line
 * per append, `<last offset> <file length> <ingested at> <earliest event time> <origin>`,
 * written and fsynced after the data (the sidecar is created, empty, before a file's first
 * line). Each append reads the origin's high-water mark from the sidecars of its family (one
 * partition's stream files, or the push files; files without a sidecar, such as older push
 * files, are left alone) and skips records at or below it. A stream append first cuts the
 * partition's files back to their last sidecar entry: lines of an append killed before its
 * sidecar line, which the replay appends again. One writer per partition is assumed (the
 * consumer group guarantees it, except for a zombie consumer finishing a batch during a
 * rebalance). Push files take the appends of several `larder serve` processes; each push has an
 * origin of its own, written in one `write`, so push files are never cut. Sidecar lines of the
 * older `--offline-sink` (`<last offset> <file length>`) count for their partition.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  fstatSync,
  readSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { AppendOrigin, AppendRequest, AppendResult } from '../offline-store.ts';
import {
  checkAscending,
  INGESTED_AT_FIELD,
  OFFSET_FIELD,
  ORIGIN_FIELD,
  originId,
} from './append-origin.ts';

interface SidecarEntry {
  offset: number;
  length: number;
  ingestedAt: number | null;
  earliest: number | null;
  /** null: a line of the older sink, for the file's partition. */
  origin: string | null;
}

/** Entries of a sidecar from byte `from` on (whole lines only) and the bytes they end at. */
function readSidecar(side: string, from = 0): { entries: SidecarEntry[]; end: number } {
  if (!existsSync(side)) return { entries: [], end: from };
  const fd = openSync(side, 'r');
  let text: string;
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - from));
    readSync(fd, buf, 0, buf.length, from);
    text = buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
  const whole = text.lastIndexOf('\n') + 1;
  const entries = text
    .slice(0, whole)
    .split('\n')
    .filter((l) => l)
    .map((l) => {
      const [o, n, at, ev, ...origin] = l.split(' ');
      return {
        offset: Number(o),
        length: Number(n),
        ingestedAt: at === undefined ? null : Number(at),
        earliest: ev === undefined || ev === '-' ? null : Number(ev),
        origin: origin.length > 0 ? origin.join(' ') : null,
      };
    });
  return { entries, end: from + Buffer.byteLength(text.slice(0, whole)) };
}

function appendDurably(file: string, text: string): number {
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return statSync(file).size;
}

/** File-name prefix of an origin's files. */
const familyOf = (origin: AppendOrigin): string =>
  origin.kind === 'stream' ? `stream-${origin.partition}-` : 'push-';

interface FileMarks {
  /** The sidecar's inode, and the bytes of it read so far (it only grows). */
  ino: number;
  read: number;
  /** The file length the sidecar covers. */
  length: number;
  /** Origin id (null: the older sink's lines, for the file's partition) → high-water mark. */
  marks: Map<string | null, number>;
}

export class JsonlAppender {
  readonly #dataDir: string;
  readonly #clock: () => number;
  /** Per data file: what its sidecar said so far (lines added since are read on the next append). */
  readonly #files = new Map<string, FileMarks>();

  constructor(dataDir: string, clock: () => number = Date.now) {
    this.#dataDir = dataDir;
    this.#clock = clock;
  }

  /**
   * The origin's high-water mark over its file family, after cutting every file back to what
   * its sidecar covers (stream files only: push files take appends of several `larder serve`
   * processes at once, and a push's origin is new). Lines another process added to a sidecar
   * (a partition that moved between workers) are read on the next append.
   */
  #mark(dir: string, origin: AppendOrigin): number {
    const family = familyOf(origin);
    if (!existsSync(dir)) return -1;
    const id = originId(origin);
    let mark = -1;
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(family) || !name.endsWith('.jsonl')) continue;
      const file = join(dir, name);
      const side = `${file}.offsets`;
      // A file without a sidecar was not written by this path (an older push file): kept as is.
      if (!existsSync(side)) continue;
      const st = statSync(side);
      let fm = this.#files.get(file);
      if (!fm || fm.ino !== st.ino || st.size < fm.read) {
        fm = { ino: st.ino, read: 0, length: 0, marks: new Map() };
        this.#files.set(file, fm);
      }
      if (st.size > fm.read) {
        const { entries, end } = readSidecar(side, fm.read);
        for (const e of entries) {
          fm.marks.set(e.origin, Math.max(fm.marks.get(e.origin) ?? -1, e.offset));
          fm.length = e.length;
        }
        fm.read = end;
      }
      if (origin.kind === 'stream' && statSync(file).size > fm.length)
        truncateSync(file, fm.length);
      mark = Math.max(mark, fm.marks.get(id) ?? -1);
      if (origin.kind === 'stream') mark = Math.max(mark, fm.marks.get(null) ?? -1);
    }
    return mark;
  }

  /** The file records of `origin` ingested at `at` go to. */
  location(source: BatchSourceSpec, origin: AppendOrigin, at: number): string {
    const day = new Date(at).toISOString().slice(0, 10);
    return join(this.#dataDir, source.path, `${familyOf(origin)}${day}.jsonl`);
  }

  append(req: AppendRequest): AppendResult {
    checkAscending(req.records);
    const dir = join(this.#dataDir, req.source.path);
    const id = originId(req.origin);
    const now = req.ingestedAt ?? this.#clock();
    const file = this.location(req.source, req.origin, now);
    const mark = this.#mark(dir, req.origin);
    const fresh = req.records.filter((r) => r.offset > mark);
    const skipped = req.records.length - fresh.length;
    if (fresh.length === 0) return { appended: 0, skipped, location: file };
    mkdirSync(dir, { recursive: true });
    // The sidecar exists before the file's first line: what it does not cover can be cut.
    if (!existsSync(`${file}.offsets`)) appendDurably(`${file}.offsets`, '');
    let text = '';
    let earliest = Infinity;
    for (const { offset, record } of fresh) {
      const ts = record[req.source.timestampField];
      if (typeof ts === 'number' && ts < earliest) earliest = ts;
      text += `${JSON.stringify({ ...record, [ORIGIN_FIELD]: id, [OFFSET_FIELD]: offset, [INGESTED_AT_FIELD]: now })}\n`;
    }
    const length = appendDurably(file, text);
    const last = fresh[fresh.length - 1]!.offset;
    const ev = Number.isFinite(earliest) ? String(earliest) : '-';
    appendDurably(`${file}.offsets`, `${last} ${length} ${now} ${ev} ${id}\n`);
    return { appended: fresh.length, skipped, location: file };
  }

  /** The earliest event time appended at or after `since` (from the sidecars), or null. */
  earliestSince(source: BatchSourceSpec, since: number): number | null {
    const dir = join(this.#dataDir, source.path);
    if (!existsSync(dir)) return null;
    const day = new Date(since).toISOString().slice(0, 10);
    let earliest: number | null = null;
    for (const name of readdirSync(dir)) {
      const m = /^(?:stream-\d+|push)-(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(name);
      if (!m || m[1]! < day) continue;
      for (const e of readSidecar(join(dir, `${name}.offsets`)).entries)
        if (e.ingestedAt !== null && e.ingestedAt >= since && e.earliest !== null)
          earliest = earliest === null ? e.earliest : Math.min(earliest, e.earliest);
    }
    return earliest;
  }
}
